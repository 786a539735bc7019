"""split_reply against the hand-labelled corpus messages of bench/compare_reply_folding.py.

The labels (bench/data/reply_folding_labels.json) decided that we keep our splitter
rather than mail-parser-reply (docs/decisions.md, 2026-12-03); this keeps it at
that level. Pure Python: runs with ``-p no:django`` too.
"""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

import pytest

from sportello.core.testenv import shared_dir
from sportello.mail.parse import parse_message
from sportello.tickets.quotes import is_forward_subject, split_reply

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
LABELS = json.loads((ROOT / "bench" / "data" / "reply_folding_labels.json").read_text())
CORPUS = shared_dir() / "mail-corpus"


def _norm(text: str) -> str:
    return " ".join(text.split())


def _raw(key: str) -> bytes:
    name, _, index = key.partition("#")
    if not index:
        return (CORPUS / name).read_bytes()
    box = mailbox.mbox(CORPUS / name, create=False)
    try:
        return box.get_bytes(box.keys()[int(index)])
    finally:
        box.close()


@pytest.mark.parametrize("label", LABELS["messages"], ids=lambda label: label["file"])
def test_it_shows_what_was_written_and_folds_the_history(label):
    parsed = parse_message(_raw(label["file"]))
    new, history = split_reply(parsed.text, forwarded=is_forward_subject(parsed.subject))
    visible = _norm(new)
    for fragment in label["show"]:
        assert _norm(fragment) in visible, f"{fragment!r} is hidden"
    for fragment in label["fold"]:
        assert _norm(fragment) not in visible, f"{fragment!r} is not folded"
        assert _norm(fragment) in _norm(history), f"{fragment!r} is lost"


def test_every_label_names_a_corpus_message_and_quotes_its_text():
    manifest = {entry["file"] for entry in json.loads((CORPUS / "manifest.json").read_text())}
    for label in LABELS["messages"]:
        assert label["file"].partition("#")[0] in manifest
        text = _norm(parse_message(_raw(label["file"])).text)
        for fragment in label["show"] + label["fold"] + label.get("signature", []):
            assert _norm(fragment) in text, (label["file"], fragment)
