"""Reply folding: our ``tickets/quotes.py`` against ``mail-parser-reply`` (PyPI), measured.

For every message of ``../shared/mail-corpus/`` (manifest.json; mbox files message by
message) and for replies to our own acknowledgement quoted the way Outlook, Gmail,
Thunderbird and Apple Mail quote, in Italian and in English, each tool splits the
plain text that Sportello shows (``parse_message(raw).text``, the same input as
``tickets/rendering.py``) into what stays visible and what is folded behind the
toggle. The judgement rests on hand-written expectations, not on the two tools
agreeing:

- ``bench/data/reply_folding_labels.json`` labels a representative set of corpus
  messages: ``show`` (text the customer wrote, which must stay visible) and
  ``fold`` (lines of quoted history or of the signature that must be folded; empty
  when the message has nothing to fold);
- the generated replies carry their own labels: the customer's text must be
  visible, the lines of our acknowledgement must be folded.

A message passes "shown" when every ``show`` fragment is visible, "folded" when no
``fold`` fragment is visible; "hidden wrongly" counts the messages where a ``show``
fragment was folded. Over the whole corpus, unlabelled, the script also counts the
messages each tool empties (nothing visible) and those that are not replies
(bounces, auto-replies, plain messages) where it folds anything.

Fragments are compared with whitespace collapsed, because mail-parser-reply strips
every line. ``mail-parser-reply`` is read as its documentation says:
``EmailReplyParser(languages=...).read(text).replies[0].body`` is the latest reply
without headers, signature and disclaimers; the rest of the text is what it folds.
It runs four ways: with Italian and English (our customers' languages), the same
with its ``keep_hyphen_lists`` option (so that "- item" lines do not start a
signature), that plus our rule of not folding "Fwd:" mail, and with every language
it knows.

Usage: ``.venv/bin/python bench/compare_reply_folding.py [--json] [--dump FILE...]``.
Prints a table and each tool's failures (or one JSON line with ``--json``);
``--dump`` prints, for the given corpus files, the text and what each tool shows,
to help write labels.
Needs Django only to render the acknowledgement template in both languages.
"""

from __future__ import annotations

import argparse
import json
import mailbox
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
SHARED = Path(os.environ.get("SPORTELLO_SHARED_DIR", ROOT.parent / "shared"))
CORPUS = SHARED / "mail-corpus"
LABELS = Path(__file__).resolve().parent / "data" / "reply_folding_labels.json"

from mailparser_reply import EmailReplyParser  # noqa: E402
from mailparser_reply.constants import MAIL_LANGUAGES  # noqa: E402
from mailparser_reply.parser import EmailMessage  # noqa: E402

from sportello.mail.parse import parse_message  # noqa: E402
from sportello.tickets.quotes import is_forward_subject, split_reply  # noqa: E402


def _norm(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------
# The tools, each as "text in, (visible, folded) out"


def ours(text: str, subject: str) -> tuple[str, str]:
    return split_reply(text, forwarded=is_forward_subject(subject))


def library(languages: list[str], *, keep_hyphen_lists: bool = False, forwards: bool = False):
    """``forwards=True`` gives it our rule for "Fwd:" subjects (nothing folded), as
    ``tickets/rendering.py`` would if the library replaced ``split_reply``."""
    parser = EmailReplyParser(languages=languages)  # filters the languages it knows

    def split(text: str, subject: str) -> tuple[str, str]:
        if forwards and is_forward_subject(subject):
            return text, ""
        message = EmailMessage(
            text=text, languages=list(parser.languages), keep_hyphen_lists=keep_hyphen_lists
        ).read()
        visible = message.replies[0].body if message.replies else text
        # What it folds: the text without the visible part (it never deletes text,
        # it only picks which fragment to show).
        folded = message.text.replace(visible, "", 1) if visible else message.text
        return visible, folded

    return split


TOOLS = {
    "ours (tickets/quotes.py)": ours,
    "mail-parser-reply it+en": library(["it", "en"]),
    "mail-parser-reply it+en, lists kept": library(["it", "en"], keep_hyphen_lists=True),
    "mail-parser-reply it+en, lists kept, Fwd: kept": library(
        ["it", "en"], keep_hyphen_lists=True, forwards=True
    ),
    "mail-parser-reply all": library(sorted(MAIL_LANGUAGES)),
}


# ---------------------------------------------------------------------------
# The corpus


@dataclass
class Case:
    key: str  # "talon/gmail.eml" or "sisimai/mbox-0.mbox#3"
    kind: str
    subject: str
    text: str
    show: list[str] = field(default_factory=list)
    fold: list[str] = field(default_factory=list)
    signature: list[str] = field(default_factory=list)
    labelled: bool = False


def corpus_cases() -> list[Case]:
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    cases = []
    for entry in manifest:
        path = CORPUS / entry["file"]
        if path.suffix == ".mbox":
            box = mailbox.mbox(path, create=False)
            raws = [box.get_bytes(key) for key in box.keys()]
            box.close()
            keys = [f"{entry['file']}#{i}" for i in range(len(raws))]
        else:
            raws, keys = [path.read_bytes()], [entry["file"]]
        for key, raw in zip(keys, raws, strict=True):
            parsed = parse_message(raw)
            cases.append(Case(key, entry["kind"], parsed.subject or "", parsed.text or ""))
    return cases


def apply_labels(cases: list[Case]) -> None:
    labels = json.loads(LABELS.read_text())
    by_key = {case.key: case for case in cases}
    for label in labels["messages"]:
        case = by_key[label["file"]]  # a label for a file not in the corpus is an error
        case.show, case.fold, case.labelled = label["show"], label["fold"], True
        case.signature = label.get("signature", [])
        for fragment in case.show + case.fold + case.signature:
            if _norm(fragment) not in _norm(case.text):
                raise SystemExit(f"label of {case.key}: {fragment!r} is not in its text")


# ---------------------------------------------------------------------------
# Replies to our own acknowledgement, quoted as the common clients quote


def acknowledgement(language: str) -> str:
    """Our acknowledgement, rendered from the real template in ``language``."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sportello.settings")
    os.environ.setdefault("SPORTELLO_DATA_DIR", tempfile.mkdtemp(prefix="sportello-bench-"))
    import django

    django.setup()
    from django.template.loader import render_to_string
    from django.utils import translation

    ticket = SimpleNamespace(number="2026-000123", subject="La stampante non stampa")
    support = SimpleNamespace(
        support_address_list=["assistenza@init-s.it"],
        support_phone_display="0744 752000",
        company_name="Init S.r.l.",
    )
    with translation.override(language):
        return render_to_string(
            "mail/acknowledgement.txt",
            {
                "ticket": ticket,
                "support": support,
                "link": "https://assistenza.init-s.it/portale/ticket/2026-000123/",
                "hours": "lun-ven 8:30-13:00, 14:30-18:30",
            },
        ).strip()


WHEN = datetime(2026, 12, 2, 10, 15)
SENDER = "Assistenza Init <assistenza@init-s.it>"
CUSTOMER = "Mario Rossi <m.rossi@example.it>"
SUBJECT = "[Ticket#2026-000123] La stampante non stampa"

# (what the customer writes, the fragments that must stay visible)
CUSTOMER_TEXTS = {
    "it": [
        ("Grazie, aspetto il tecnico.", ["Grazie, aspetto il tecnico."]),
        (
            "Buongiorno,\nla stampante continua a non stampare anche dopo il riavvio.\n"
            "Sul display compare il codice E-42.\n\nCordiali saluti\nMario Rossi\n"
            "Rossi S.r.l. - Ufficio acquisti\nTel. 0744 123456",
            ["la stampante continua a non stampare anche dopo il riavvio.", "E-42"],
        ),
        (
            "Salve, il problema è risolto: era il cavo di rete.\n"
            "Potete chiudere il ticket.\n\nGrazie\nMario",
            ["il problema è risolto: era il cavo di rete.", "Potete chiudere il ticket."],
        ),
        (
            "Ok.\n\nP.S. domani l'ufficio apre alle 9:30, non prima.",
            ["Ok.", "domani l'ufficio apre alle 9:30"],
        ),
        (
            "Buongiorno,\nda lunedì non funzionano:\n- lo scanner della sala riunioni\n"
            "- la cartella condivisa Contabilità\n- Outlook sul PC della reception\n\n"
            "Grazie\nMario",
            ["lo scanner della sala riunioni", "Outlook sul PC della reception"],
        ),
        (
            "Salve,\ngrazie, con il riavvio la stampante funziona.\n"
            "Resta però l'errore 0x80 sullo scanner.\n\nMario",
            ["con il riavvio la stampante funziona.", "Resta però l'errore 0x80 sullo scanner."],
        ),
    ],
    "en": [
        ("Thanks, I'll wait for the technician.", ["Thanks, I'll wait for the technician."]),
        (
            "Hello,\nthe printer still does not print after the restart.\n"
            "The display shows error E-42.\n\nBest regards\nJohn Smith\n"
            "Smith Ltd - Purchasing\nPhone +44 20 7946 0958",
            ["the printer still does not print after the restart.", "E-42"],
        ),
        (
            "Hi, the problem is solved: it was the network cable.\n"
            "You can close the ticket.\n\nThanks\nJohn",
            ["the problem is solved: it was the network cable.", "You can close the ticket."],
        ),
        (
            "Ok.\n\nPS: tomorrow the office opens at 9:30, not earlier.",
            ["Ok.", "tomorrow the office opens at 9:30"],
        ),
        (
            "Hello,\nsince Monday these do not work:\n- the scanner in the meeting room\n"
            "- the shared Accounts folder\n- Outlook on the reception PC\n\nThanks\nJohn",
            ["the scanner in the meeting room", "Outlook on the reception PC"],
        ),
        (
            "Hi,\nThanks, the restart fixed the printer.\n"
            "But the scanner still fails with error 0x80.\n\nJohn",
            ["the restart fixed the printer.", "But the scanner still fails with error 0x80."],
        ),
    ],
}

_IT_DAY, _IT_MONTH = "mer", "dic"
_QUOTE_STYLES = {
    # Outlook desktop and web: a rule, a header block, the original text unquoted.
    "outlook": {
        "it": lambda ack: (
            "________________________________\n"
            f"Da: {SENDER}\nInviato: mercoledì 2 dicembre 2026 10:15\nA: {CUSTOMER}\n"
            f"Oggetto: {SUBJECT}\n\n{ack}"
        ),
        "en": lambda ack: (
            "________________________________\n"
            f"From: {SENDER}\nSent: Wednesday, December 2, 2026 10:15 AM\nTo: {CUSTOMER}\n"
            f"Subject: {SUBJECT}\n\n{ack}"
        ),
    },
    # Older Outlook: the "Original Message" separator.
    "outlook-classic": {
        "it": lambda ack: (
            f"-----Messaggio originale-----\nDa: {SENDER}\n"
            f"Inviato: mercoledì 2 dicembre 2026 10:15\nA: {CUSTOMER}\nOggetto: {SUBJECT}\n\n"
            f"{ack}"
        ),
        "en": lambda ack: (
            f"-----Original Message-----\nFrom: {SENDER}\n"
            f"Sent: Wednesday, December 2, 2026 10:15 AM\nTo: {CUSTOMER}\nSubject: {SUBJECT}\n\n"
            f"{ack}"
        ),
    },
    "gmail": {
        "it": lambda ack: (
            f"Il giorno {_IT_DAY} 2 {_IT_MONTH} 2026 alle ore 10:15 {SENDER} ha scritto:\n\n"
            + _quote(ack)
        ),
        "en": lambda ack: f"On Wed, Dec 2, 2026 at 10:15 AM {SENDER} wrote:\n\n" + _quote(ack),
    },
    "thunderbird": {
        "it": lambda ack: "Il 02/12/2026 10:15, Assistenza Init ha scritto:\n" + _quote(ack),
        "en": lambda ack: "On 02/12/2026 10:15, Assistenza Init wrote:\n" + _quote(ack),
    },
    # Outlook for Mac: a header block with Date/Data, no rule above it.
    "outlook-mac": {
        "it": lambda ack: (
            f"Da: {SENDER}\nData: mercoledì 2 dicembre 2026 10:15\nA: {CUSTOMER}\n"
            f"Oggetto: {SUBJECT}\n\n{ack}"
        ),
        "en": lambda ack: (
            f"From: {SENDER}\nDate: Wednesday, 2 December 2026 at 10:15\nTo: {CUSTOMER}\n"
            f"Subject: {SUBJECT}\n\n{ack}"
        ),
    },
    # The Gmail app on a phone: a shorter attribution, without "alle ore".
    "gmail-mobile": {
        "it": lambda ack: f"Il mer 2 dic 2026, 10:15 {SENDER} ha scritto:\n\n" + _quote(ack),
        "en": lambda ack: f"On Wed, 2 Dec 2026, 10:15 {SENDER} wrote:\n\n" + _quote(ack),
    },
    # iPhone Mail: its signature line, then the attribution inside the quote.
    "iphone-mail": {
        "it": lambda ack: (
            "Inviato da iPhone\n\n"
            + _quote(f"Il giorno 2 dic 2026, alle ore 10:15, {SENDER} ha scritto:\n\n{ack}")
        ),
        "en": lambda ack: (
            "Sent from my iPhone\n\n" + _quote(f"On 2 Dec 2026, at 10:15, {SENDER} wrote:\n\n{ack}")
        ),
    },
    # Apple Mail wraps long attribution lines; the address goes on the second line.
    "apple-mail": {
        "it": lambda ack: (
            "Il giorno 2 dic 2026, alle ore 10:15, Assistenza Init\n<assistenza@init-s.it> "
            "ha scritto:\n\n" + _quote(ack)
        ),
        "en": lambda ack: f"On 2 Dec 2026, at 10:15, {SENDER} wrote:\n\n" + _quote(ack),
    },
}


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.split("\n"))


def reply_cases() -> list[Case]:
    cases = []
    for language in ("it", "en"):
        ack = acknowledgement(language)
        ack_lines = [line for line in ack.split("\n") if line.strip()]
        # The first and the last lines of our text: the whole quote must be folded.
        fold = [ack_lines[0], ack_lines[-1]]
        for style, quoters in _QUOTE_STYLES.items():
            for n, (answer, show) in enumerate(CUSTOMER_TEXTS[language]):
                text = f"{answer}\n\n{quoters[language](ack)}\n"
                subject = ("R: " if language == "it" else "Re: ") + SUBJECT
                cases.append(
                    Case(
                        f"reply/{style}-{language}-{n}",
                        "reply",
                        subject,
                        text,
                        show,
                        fold,
                        labelled=True,
                    )
                )
    return cases


# ---------------------------------------------------------------------------
# Judging


@dataclass
class Verdict:
    shown: bool  # every "show" fragment visible
    folded: bool  # no "fold" fragment visible
    hidden_wrongly: bool  # some "show" fragment folded
    emptied: bool
    folds_something: bool
    signature_folded: bool | None  # None: no signature labelled


def judge(case: Case, visible: str) -> Verdict:
    seen = _norm(visible)
    missing = [f for f in case.show if _norm(f) not in seen]
    leaked = [f for f in case.fold if _norm(f) in seen]
    return Verdict(
        shown=not missing,
        folded=not leaked,
        hidden_wrongly=bool(missing),
        emptied=bool(case.text.strip()) and not visible.strip(),
        folds_something=_norm(visible) != _norm(case.text),
        signature_folded=(
            all(_norm(f) not in seen for f in case.signature) if case.signature else None
        ),
    )


def measure(cases: list[Case]) -> dict:
    results: dict[str, dict] = {}
    for name, tool in TOOLS.items():
        tally = {
            "labelled": {
                "messages": 0,
                "shown": 0,
                "folded": 0,
                "both": 0,
                "hidden_wrongly": [],
                "with_signature": 0,
                "signature_folded": 0,
            },
            "replies": {"messages": 0, "shown": 0, "folded": 0, "both": 0, "hidden_wrongly": []},
            "corpus": {"messages": 0, "emptied": [], "non_replies_folded": 0, "non_replies": 0},
            "seconds": 0.0,
        }
        failures = []
        for case in cases:
            started = time.perf_counter()
            visible, _folded = tool(case.text, case.subject)
            tally["seconds"] += time.perf_counter() - started
            verdict = judge(case, visible)
            if not case.key.startswith("reply/"):
                corpus = tally["corpus"]
                corpus["messages"] += 1
                if verdict.emptied:
                    corpus["emptied"].append(case.key)
                if case.kind != "reply":
                    corpus["non_replies"] += 1
                    corpus["non_replies_folded"] += verdict.folds_something
            if case.labelled:
                group = tally["replies" if case.key.startswith("reply/") else "labelled"]
                group["messages"] += 1
                group["shown"] += verdict.shown
                group["folded"] += verdict.folded
                group["both"] += verdict.shown and verdict.folded
                if verdict.hidden_wrongly:
                    group["hidden_wrongly"].append(case.key)
                if verdict.signature_folded is not None:
                    group["with_signature"] += 1
                    group["signature_folded"] += verdict.signature_folded
                if not (verdict.shown and verdict.folded):
                    failures.append(
                        {"message": case.key, "shown": verdict.shown, "folded": verdict.folded}
                    )
        tally["seconds"] = round(tally["seconds"], 3)
        tally["failures"] = failures
        results[name] = tally
    return results


def print_table(results: dict) -> None:
    def row(cells):
        print(" | ".join(str(c) for c in cells))

    row(
        [
            "tool",
            "labelled: shown",
            "folded",
            "both",
            "our replies: shown",
            "folded",
            "both",
            "signatures folded",
            "corpus emptied",
            "non-replies folded",
            "seconds",
        ]
    )
    for name, t in results.items():
        lab, rep, cor = t["labelled"], t["replies"], t["corpus"]
        row(
            [
                name,
                f"{lab['shown']}/{lab['messages']}",
                f"{lab['folded']}/{lab['messages']}",
                f"{lab['both']}/{lab['messages']}",
                f"{rep['shown']}/{rep['messages']}",
                f"{rep['folded']}/{rep['messages']}",
                f"{rep['both']}/{rep['messages']}",
                f"{lab['signature_folded']}/{lab['with_signature']}",
                f"{len(cor['emptied'])}/{cor['messages']}",
                f"{cor['non_replies_folded']}/{cor['non_replies']}",
                t["seconds"],
            ]
        )
    for name, t in results.items():
        print(f"\n{name}: failures ({len(t['failures'])})")
        for failure in t["failures"]:
            what = [k for k in ("shown", "folded") if not failure[k]]
            print(f"  {failure['message']}: not {' and not '.join(what)}")


def dump(cases: list[Case], keys: list[str]) -> None:
    for case in cases:
        if case.key not in keys:
            continue
        print(f"===== {case.key} ({case.kind}) subject={case.subject!r}\n{case.text}\n")
        for name, tool in TOOLS.items():
            visible, _ = tool(case.text, case.subject)
            print(f"----- {name} shows:\n{visible}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--dump", nargs="+", metavar="KEY", help="show text and splits")
    args = parser.parse_args()
    cases = corpus_cases()
    if args.dump:
        dump(cases + reply_cases(), args.dump)
        return 0
    apply_labels(cases)
    cases += reply_cases()
    results = measure(cases)
    if args.json:
        summary = {
            name: {k: v for k, v in t.items() if k != "failures"} for name, t in results.items()
        }
        print(json.dumps({"bench": "reply_folding", "results": summary}, ensure_ascii=False))
    else:
        print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
