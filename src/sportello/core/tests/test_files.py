"""Durable file writes (sportello/core/files.py): whole or absent, checked by size and hash."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage, get_connection
from django.utils import translation

from sportello.core import files
from sportello.core.files import (
    DurableFileSystemStorage,
    file_mismatch,
    storage_mismatch,
    storage_put,
    store_bytes,
    write_durable,
)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_it_writes_the_bytes_creating_folders_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "a" / "b" / "export.csv"
    write_durable(target, b"numero;totale\n2026-000001;54,90\n")
    assert target.read_bytes() == b"numero;totale\n2026-000001;54,90\n"
    assert os.listdir(target.parent) == ["export.csv"]
    write_durable(target, [b"chunk one, ", b"chunk two"])  # an iterable of chunks, replaced
    assert target.read_bytes() == b"chunk one, chunk two"


def test_it_fsyncs_the_file_and_the_folder_before_it_returns(tmp_path, monkeypatch):
    synced: list[str] = []
    real = os.fsync

    def spy(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(files.os, "fsync", spy)
    target = tmp_path / "new" / "file.bin"
    write_durable(target, b"x")
    # The new folder's name in its parent, the temporary file's bytes, the new file's name.
    assert synced[0] == str(tmp_path)
    assert synced[1].startswith(str(target.parent / ".file.bin."))
    assert synced[2:] == [str(target.parent)]


def test_it_never_overwrites_when_asked_not_to(tmp_path):
    target = tmp_path / "mail.eml"
    target.write_bytes(b"first")
    with pytest.raises(FileExistsError):
        write_durable(target, b"second", replace=False)
    assert target.read_bytes() == b"first"
    assert os.listdir(tmp_path) == ["mail.eml"]


def test_a_write_killed_half_way_leaves_the_old_file_or_nothing_at_the_name(tmp_path):
    # A child is SIGKILLed in the middle of a durable write (one chunk written, the next
    # not yet): the name still holds the old bytes, whole; only a dot-temporary file is
    # left beside it.
    target = tmp_path / "big.bin"
    target.write_bytes(b"old")
    script = textwrap.dedent(
        f"""
        import sys
        from sportello.core.files import write_durable
        def chunks():
            yield b"y" * (1 << 20)
            sys.stdout.write("writing\\n"); sys.stdout.flush()
            sys.stdin.read()  # blocks: the parent kills us here
            yield b"never"
        write_durable({str(target)!r}, chunks())
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert child.stdout.readline() == b"writing\n"
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    child.stdin.close()
    child.stdout.close()
    assert target.read_bytes() == b"old"
    leftovers = [p for p in os.listdir(tmp_path) if p != "big.bin"]
    assert leftovers and all(p.startswith(".big.bin.") and p.endswith(".tmp") for p in leftovers)


@translation.override("en")
def test_an_existing_file_is_kept_only_when_size_and_hash_match(tmp_path):
    data = b"Subject: ciao\r\n\r\ntesto\r\n"
    target = tmp_path / "raw.eml"
    target.write_bytes(b"")  # what a write killed after open() leaves
    assert file_mismatch(target, size=len(data), sha256=digest(data)) == (
        f"the file holds 0 bytes, not {len(data)}"
    )
    assert store_bytes(target, data) is True
    assert target.read_bytes() == data
    assert store_bytes(target, data) is False  # whole already: not written again
    same_size = b"X" * len(data)
    target.write_bytes(same_size)
    assert "SHA-256" in file_mismatch(target, size=len(data), sha256=digest(data))
    assert store_bytes(target, data) is True and target.read_bytes() == data
    assert file_mismatch(tmp_path / "nope", size=1, sha256="0") == "the file is missing"


@pytest.mark.django_db
def test_the_default_storage_writes_durably_and_keeps_django_names():
    assert isinstance(default_storage, DurableFileSystemStorage)
    first = default_storage.save("exports/report.csv", ContentFile(b"a;b\n"))
    second = default_storage.save("exports/report.csv", ContentFile(b"c;d\n"))
    assert first == "exports/report.csv" and second != first  # never overwritten
    with default_storage.open(first) as fh:
        assert fh.read() == b"a;b\n"
    with default_storage.open(second) as fh:
        assert fh.read() == b"c;d\n"
    # FILE_UPLOAD_PERMISSIONS (0o644), as Django's own storage gives, not mkstemp's 0o600.
    assert os.stat(default_storage.path(first)).st_mode & 0o777 == 0o644


@pytest.mark.django_db
def test_storage_put_replaces_a_damaged_content_addressed_file():
    data = b"%PDF-1.4 fattura"
    name = f"exports/{digest(data)}.pdf"
    path = default_storage.path(name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "wb").close()
    assert storage_mismatch(name, size=len(data), sha256=digest(data))
    assert storage_put(name, data) == name
    assert storage_mismatch(name, size=len(data), sha256=digest(data)) == ""


def test_the_development_mail_backend_writes_one_whole_file_per_message(tmp_path):
    backend = "sportello.core.email_backend.EmailBackend"
    for n in range(2):
        EmailMessage(
            f"Ticket {n}", "Corpo", "assistenza@init-s.it", ["alice@alice.example.it"],
            connection=get_connection(backend, file_path=str(tmp_path)),
        ).send()  # fmt: skip
    written = sorted(os.listdir(tmp_path))
    assert len(written) == 2 and all(n.endswith(".eml") for n in written)
    assert b"Subject: Ticket 0" in (tmp_path / written[0]).read_bytes()
    assert b"Subject: Ticket 1" in (tmp_path / written[1]).read_bytes()


def test_a_deferred_batch_is_written_whole_without_one_fsync_per_file(tmp_path, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(files.os, "fsync", lambda fd: calls.append(fd))
    with files.fsync_deferred():
        assert not files.fsync_enabled()
        for n in range(3):
            write_durable(tmp_path / "import" / f"{n}.eml", b"x" * n)
    assert calls == []
    assert files.fsync_enabled()
    assert sorted(os.listdir(tmp_path / "import")) == ["0.eml", "1.eml", "2.eml"]
    assert (tmp_path / "import" / "2.eml").read_bytes() == b"xx"
