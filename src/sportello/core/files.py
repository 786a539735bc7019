"""Durable file writes: the one way Sportello puts bytes on disk that matter.

A file that a row (or a ``250``, or an exit status 0) says exists must hold its bytes
after a crash, a ``SIGKILL`` or a power cut. ``open(path, "wb").write(data)`` does not
promise that: the file can be created and the process killed before the bytes are written,
leaving an empty file at the right name (issue 17). So, as Postfix does for its queue
files, every write here goes:

1. to a temporary file in the same folder (``.<name>.<random>.tmp``), flushed and
   ``fsync``-ed, so the bytes are on the disk;
2. renamed into place (``rename(2)`` is atomic within one file system: a reader sees the
   old file or the new one, never half of one);
3. then the folder is ``fsync``-ed, so the new name survives a power cut too. Folders
   created on the way are made durable in their parent the same way.

Only after ``write_durable`` returns may the caller commit a row that points at the file,
and only after the commit tell anyone (SMTP ``250``, a pipe's exit 0, an HTTP answer).

A file already at the path is trusted only when its size and SHA-256 are the expected
ones (``store_bytes``); otherwise it is replaced the same atomic way. A kill between steps
1 and 2 leaves a temporary file behind, never a wrong one at the real name; such files
start with a dot and end in ``.tmp`` and may be removed at any time.

For Django's storage API: ``DurableFileSystemStorage`` (the default storage) writes every
``storage.save`` this way, and ``storage_put`` / ``storage_mismatch`` store and check
content-addressed files through any storage. Exports and other generated files use
``write_durable`` (a path) or ``storage_put`` (a storage name).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

CHUNK = 1 << 20

_fsync_now: ContextVar[bool] = ContextVar("sportello_fsync_now", default=True)


def fsync_enabled() -> bool:
    """False inside ``fsync_deferred()``."""
    return _fsync_now.get()


@contextmanager
def fsync_deferred() -> Iterator[None]:
    """Inside: files are still written whole to a temporary file and renamed into place (a
    killed process never leaves a partial file at the final name), but not fsynced one by
    one; the caller makes the whole batch durable at once with ``os.sync()`` before it says
    it is done. For file imports, whose source files stay where they are: each fsync costs
    milliseconds (docs/benchmarks.md), one sync at the end costs one. Forked children
    inherit it (``mail ingest --jobs``)."""
    token = _fsync_now.set(False)
    try:
        yield
    finally:
        _fsync_now.reset(token)


def _fsync_dir(folder: Path) -> None:
    if not _fsync_now.get():
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_dir(folder: Path, *, mode: int | None = None) -> None:
    """Create ``folder`` and its missing parents, each made durable in its parent."""
    folder = Path(folder)
    missing: list[Path] = []
    probe = folder
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for new in reversed(missing):
        try:
            if mode is None:
                new.mkdir()
            else:
                # As Django's storage does: the mode exactly, whatever the umask.
                old_umask = os.umask(0)
                try:
                    new.mkdir(mode=mode)
                finally:
                    os.umask(old_umask)
        except FileExistsError:  # another process made it a moment ago
            pass
        _fsync_dir(new.parent)


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_durable(
    path: str | os.PathLike,
    data: bytes | Iterable[bytes],
    *,
    mode: int | None = None,
    dir_mode: int | None = None,
    replace: bool = True,
) -> None:
    """Write ``data`` (bytes, or an iterable of byte chunks) to ``path`` durably.

    Temporary file in the same folder, flush, fsync, rename into place, fsync the folder.
    ``replace=False`` never overwrites: it raises ``FileExistsError`` when ``path``
    exists (the rename is then a hard link, which fails atomically on an existing name).
    ``mode`` defaults to what ``open()`` would give under the current umask.
    """
    path = Path(path)
    folder = path.parent
    ensure_dir(folder, mode=dir_mode)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, bytes | bytearray | memoryview):
                fh.write(data)
            else:
                for chunk in data:
                    fh.write(chunk)
            fh.flush()
            os.fchmod(fh.fileno(), _default_mode() if mode is None else mode)
            if _fsync_now.get():
                os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
            os.unlink(tmp)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(folder)


def file_digest(path: str | os.PathLike) -> tuple[int, str]:
    """(size, SHA-256 hex) of the file at ``path``."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def mismatch_reason(*, found: tuple[int, str | None] | None, size: int, sha256: str) -> str:
    """Empty when ``found`` (size, hash) is the expected file; else what differs, in the
    active language (``the file is missing``, ``the file holds 0 bytes, not 571``)."""
    if found is None:
        return _("the file is missing")
    found_size, found_hash = found
    if found_size != size:
        return _("the file holds %(found)s bytes, not %(size)s") % {
            "found": found_size,
            "size": size,
        }
    if found_hash != sha256:
        return _("the file's SHA-256 is %(found)s, not %(sha256)s") % {
            "found": found_hash,
            "sha256": sha256,
        }
    return ""


def file_mismatch(path: str | os.PathLike, *, size: int, sha256: str) -> str:
    """Empty when the file at ``path`` has this size and SHA-256; else the reason."""
    try:
        found_size = os.stat(path).st_size
        if found_size != size:  # cheap: a file of the wrong size need not be read
            return mismatch_reason(found=(found_size, None), size=size, sha256=sha256)
        return mismatch_reason(found=file_digest(path), size=size, sha256=sha256)
    except FileNotFoundError:
        return mismatch_reason(found=None, size=size, sha256=sha256)


def store_bytes(path: str | os.PathLike, data: bytes, *, sha256: str | None = None, **kw) -> bool:
    """Make sure ``path`` holds exactly ``data``; return True when it had to be written.

    An existing file is kept only when its size and SHA-256 match; anything else (an empty
    file left by a killed write, a truncated or foreign one) is replaced atomically."""
    sha256 = sha256 or hashlib.sha256(data).hexdigest()
    reason = file_mismatch(path, size=len(data), sha256=sha256)
    if not reason:
        return False
    if os.path.lexists(path):
        log.warning("stored file did not match; replaced", extra={"path": str(path), "why": reason})
    write_durable(path, data, **kw)
    return True


class DurableFileSystemStorage(FileSystemStorage):
    """Django's file system storage, with every save written by ``write_durable``.

    Same names and collision rule as ``FileSystemStorage`` (an existing name is never
    overwritten: another name is chosen, unless ``allow_overwrite``), but a file exists at
    its final name only once its bytes are on disk."""

    def _save(self, name, content):
        while True:
            full_path = Path(self.path(name))
            if hasattr(content, "seek"):
                content.seek(0)
            try:
                write_durable(
                    full_path,
                    content.chunks() if hasattr(content, "chunks") else content.read(),
                    mode=self.file_permissions_mode,
                    dir_mode=self.directory_permissions_mode,
                    replace=bool(getattr(self, "_allow_overwrite", False)),
                )
            except FileExistsError:
                name = self.get_available_name(name)
                continue
            break
        return str(name).replace("\\", "/")


def _local_path(storage: Storage, name: str) -> Path | None:
    try:
        return Path(storage.path(name))
    except NotImplementedError:  # an object store (S3 and the like): no local path
        return None


def storage_mismatch(name: str, *, size: int, sha256: str, storage: Storage | None = None) -> str:
    """Empty when the stored file ``name`` has this size and SHA-256; else the reason."""
    storage = storage or default_storage
    local = _local_path(storage, name)
    if local is not None:
        return file_mismatch(local, size=size, sha256=sha256)
    if not storage.exists(name):
        return mismatch_reason(found=None, size=size, sha256=sha256)
    digest = hashlib.sha256()
    found = 0
    with storage.open(name, "rb") as fh:
        for chunk in fh.chunks():
            digest.update(chunk)
            found += len(chunk)
    return mismatch_reason(found=(found, digest.hexdigest()), size=size, sha256=sha256)


def storage_put(
    name: str, data: bytes, *, sha256: str | None = None, storage: Storage | None = None
) -> str:
    """Store ``data`` under ``name`` (a content-addressed name: the same name always means
    the same bytes) and return the stored name. A file already there is kept only when
    its size and SHA-256 match, else it is replaced. On a local storage the write is
    ``write_durable``; an object store's own upload is atomic per object."""
    storage = storage or default_storage
    sha256 = sha256 or hashlib.sha256(data).hexdigest()
    local = _local_path(storage, name)
    if local is not None:
        store_bytes(
            local,
            data,
            sha256=sha256,
            mode=getattr(storage, "file_permissions_mode", None),
            dir_mode=getattr(storage, "directory_permissions_mode", None),
        )
        return name
    reason = storage_mismatch(name, size=len(data), sha256=sha256, storage=storage)
    if not reason:
        return name
    if storage.exists(name):
        log.warning("stored file did not match; replaced", extra={"path": name, "why": reason})
        storage.delete(name)
    return storage.save(name, ContentFile(data))
