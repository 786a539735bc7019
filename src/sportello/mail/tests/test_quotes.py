"""sportello.tickets.quotes on real mail: one row per client style, talon's replies too.

Run without Django: ``.venv/bin/pytest -p no:django src/sportello/mail``.
"""

from __future__ import annotations

import email
from email import policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sportello.core.testenv import shared_dir
from sportello.mail.parse import html_to_text, parse_message
from sportello.tickets.quotes import is_forward_subject, split_reply

TALON = shared_dir() / "mail-corpus" / "talon"

# talon's standard replies: (file, where the folded history starts).
TALON_REPLIES = [
    ("android.eml", '02.04.2012 14:20 пользователь "bob@xxx.mailgun.org" <'),
    ("aol.eml", "-----Original Message-----"),
    ("apple_mail.eml", "On Apr 3, 2012, at 4:19 PM, bob wrote:"),
    ("apple_mail_2.eml", "> On 22 Aug 2015, at 19:21, Adam Renberg <tgwizard@gmail.com> wrote:"),
    ("comcast.eml", "----- Original Message -----"),
    ("gmail.eml", "On Mon, Apr 2, 2012 at 6:26 PM, Megan One <xxx@gmail.com> wrote:"),
    ("hotmail.eml", "> Subject: Test"),
    ("iphone.eml", "Sent from my iPhone"),
    ("outlook.eml", "From: xxx@xxx.mailgun.org [mailto:xxx@xxx.mailgun.org]"),
    ("sparrow.eml", "-- \nxxx\nSent with Sparrow"),
    ("thunderbird.eml", "On 04/02/2012 06:26 PM, Megan One wrote:"),  # bottom-posted
    ("yahoo.eml", "----- Original Message -----"),
]


@pytest.mark.parametrize(("name", "history_start"), TALON_REPLIES, ids=lambda v: str(v)[:20])
def test_it_splits_talon_replies(name, history_start):
    parsed = parse_message((TALON / name).read_bytes())
    new, history = split_reply(parsed.text)
    assert new == "Hello"
    assert history.startswith(history_start)


def test_it_splits_a_yahoo_reply_that_shares_a_block_with_the_quote():
    parsed = parse_message((TALON / "reply-quotations-share-block.eml").read_bytes())
    new, history = split_reply(parsed.text)
    assert new.startswith("Hi Katharine.")
    assert new.endswith("Joe XXX")
    assert history.startswith("--- On Wed, 4/4/12, xxx@example.com <xxx@example.com> wrote:")
    assert "New Booking Inquiry" in history


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("android.eml", "Hello"),
        ("aol.eml", "Hello"),
        ("comcast.eml", "Hello"),
        ("gmail.eml", "Hello"),
        ("hotmail.eml", "Hello"),
        ("outlook.eml", "Allo! Follow up MIME!"),
        ("sparrow.eml", "Hello"),
    ],
)
def test_it_splits_text_derived_from_the_html_part(name, expected):
    """HTML-only mail: blockquotes become ">" lines that split_reply folds."""
    message = email.message_from_bytes((TALON / name).read_bytes(), policy=policy.default)
    html = message.get_body(("html",)).get_content()
    new, _history = split_reply(html_to_text(html))
    assert new == expected


# Our own rows: Italian clients first, then German, French and the edge cases.
REPLIES = [
    pytest.param(
        "La stampante ora funziona, grazie.\n\n"
        "Il giorno lun 2 mar 2026 alle ore 10:15 Assistenza Init <assistenza@init-s.it> "
        "ha scritto:\n\n> Buongiorno, abbiamo riavviato lo spooler.\n",
        "La stampante ora funziona, grazie.",
        "Il giorno lun 2 mar 2026",
        id="gmail-it",
    ),
    pytest.param(
        "Grazie mille!\n\nIl giorno 2 mar 2026, alle ore 10:15, Assistenza Init\n"
        "<assistenza@init-s.it> ha scritto:\n\n> Buongiorno\n",
        "Grazie mille!",
        "Il giorno 2 mar 2026, alle ore 10:15",
        id="apple-mail-it-wrapped",
    ),
    pytest.param(
        "Confermo l'appuntamento.\n\nIl 02/03/2026 10:15, Assistenza Init ha scritto:\n"
        "> Passiamo domani alle 9?\n",
        "Confermo l'appuntamento.",
        "Il 02/03/2026 10:15, Assistenza Init ha scritto:",
        id="thunderbird-it",
    ),
    pytest.param(
        "Va bene domani.\n\nMario Rossi\nUfficio acquisti\n\n"
        "Da: Assistenza Init <assistenza@init-s.it>\nInviato: lunedì 2 marzo 2026 10:15\n"
        "A: Mario Rossi <m.rossi@example.it>\nOggetto: [Ticket#2026-000123] Stampante\n\n"
        "Buongiorno, passiamo domani?\n",
        "Va bene domani.\n\nMario Rossi\nUfficio acquisti",
        "Da: Assistenza Init",
        id="outlook-it-header-block",
    ),
    pytest.param(
        "Ok.\n\n________________________________\nDa: Assistenza Init <assistenza@init-s.it>\n"
        "Inviato: lunedì 2 marzo 2026 10:15\nA: Mario Rossi\nOggetto: Stampante\n\nTesto\n",
        "Ok.",
        "________________________________\nDa: Assistenza Init",
        id="outlook-web-it-rule",
    ),
    pytest.param(
        "Allego la foto.\n\n-----Messaggio originale-----\nDa: Assistenza Init\n"
        "Inviato: lunedì 2 marzo 2026 10:15\nOggetto: Stampante\n\nCi mandi una foto?\n",
        "Allego la foto.",
        "-----Messaggio originale-----",
        id="outlook-it-separator",
    ),
    pytest.param(
        "Arrivo alle 10.\n\nInviato da iPhone\n\n"
        "Il giorno 2 mar 2026, alle ore 10:15, Assistenza Init <assistenza@init-s.it> "
        "ha scritto:\n\n> Quando passa?\n",
        "Arrivo alle 10.",
        "Inviato da iPhone",
        id="iphone-it",
    ),
    pytest.param(
        "Arrivo alle 10.\n\nInviato dal mio Samsung Galaxy smartphone.\n",
        "Arrivo alle 10.",
        "Inviato dal mio Samsung Galaxy smartphone.",
        id="android-it-signature-only",
    ),
    pytest.param(
        "Ok per giovedì.\n\nScarica Outlook per Android\n",
        "Ok per giovedì.",
        "Scarica Outlook per Android",
        id="outlook-mobile-it",
    ),
    pytest.param(
        "Ecco il numero di serie: ABC123.\n\n-- \nMario Rossi\nExample S.r.l.\nTel. 0744 000000\n",
        "Ecco il numero di serie: ABC123.",
        "-- \nMario Rossi",
        id="rfc3676-signature",
    ),
    pytest.param(
        "Der Drucker geht wieder.\n\nAm 02.03.2026 um 10:15 schrieb Assistenz "
        "<assistenza@init-s.it>:\n> Bitte neu starten.\n",
        "Der Drucker geht wieder.",
        "Am 02.03.2026 um 10:15 schrieb",
        id="german-am-schrieb",
    ),
    pytest.param(
        "Danke!\n\nVon meinem iPhone gesendet\n\n> Bitte neu starten.\n",
        "Danke!",
        "Von meinem iPhone gesendet",
        id="german-iphone",
    ),
    pytest.param(
        "Ja.\n\nVon: Assistenz <assistenza@init-s.it>\nGesendet: Montag, 2. März 2026 10:15\n"
        "An: Max\nBetreff: Drucker\n\nText\n",
        "Ja.",
        "Von: Assistenz",
        id="outlook-de",
    ),
    pytest.param(
        "Merci.\n\nLe lun. 2 mars 2026 à 10:15, Assistance <assistenza@init-s.it> a écrit :\n"
        "> Bonjour\n",
        "Merci.",
        "Le lun. 2 mars 2026",
        id="gmail-fr",
    ),
    pytest.param(
        "Risolto.\n\n*From:* Assistenza <assistenza@init-s.it>\n*Sent:* Monday, March 2, 2026\n"
        "*To:* Mario\n*Subject:* Stampante\n",
        "Risolto.",
        "*From:* Assistenza",
        id="outlook-html-to-text-bold",
    ),
]


@pytest.mark.parametrize(("text", "new", "history_start"), REPLIES)
def test_it_splits_replies(text, new, history_start):
    got_new, got_history = split_reply(text)
    assert got_new == new
    assert got_history.startswith(history_start)


# When unsure, everything stays in the new content.
KEPT_WHOLE = [
    pytest.param("Buongiorno,\nla stampante non stampa.\n\nMario", id="no-markers"),
    pytest.param(
        "Il tecnico ha scritto:\nbisogna cambiare il toner.\nVa bene?", id="sentence-with-verb"
    ),
    pytest.param(
        "On Monday our backup failed and the log wrote: disk full.", id="wrote-mid-sentence"
    ),
    pytest.param(
        "Buongiorno.\nIl 3 marzo il vostro tecnico ha scritto:\nil disco è guasto.\nÈ vero?",
        id="attribution-like-sentence-without-time",
    ),
    pytest.param(
        "> Può passare lunedì?\nSì, alle 9.\n> E il toner?\nLo porto io.", id="inline-answers"
    ),
    pytest.param("> solo citazione\n> nient'altro", id="only-a-quote"),
    pytest.param("Da: ufficio acquisti\nvi scrivo per un guasto.", id="from-line-no-header-block"),
    pytest.param("Testo\n--\nuno\n--\ndue", id="two-bare-dash-lines-are-no-signature"),
    pytest.param(
        "Vedi sotto.\n\n---------- Forwarded message ---------\nDa: Fornitore <f@example.it>\n"
        "Date: lun 2 mar 2026\nSubject: Errore\nTo: Mario\n\nErrore 0x80070005\n\n"
        "On Mon, Mar 2, 2026 at 9:00 AM Mario <m@example.it> wrote:\n> ciao\n",
        id="gmail-forward",
    ),
    pytest.param(
        "Guardate qui.\n\nInizio messaggio inoltrato:\n\nDa: Fornitore <f@example.it>\n"
        "Data: 2 marzo 2026 10:00:00 CET\nA: Mario\nOggetto: Errore\n\nErrore 42\n",
        id="apple-mail-it-forward",
    ),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("text", KEPT_WHOLE)
def test_it_keeps_text_whole_when_unsure(text):
    assert split_reply(text) == (text.strip(), "")


def test_it_keeps_a_long_block_after_dashes():
    text = "Testo\n-- \n" + "\n".join(f"riga {i}" for i in range(30))
    assert split_reply(text) == (text, "")


def test_it_splits_a_bottom_posted_reply_the_other_way_round():
    text = "Il 02/03/2026 10:15, Assistenza ha scritto:\n> Passiamo domani?\n\nSì, grazie.\n"
    assert split_reply(text) == (
        "Sì, grazie.",
        "Il 02/03/2026 10:15, Assistenza ha scritto:\n> Passiamo domani?",
    )


def test_it_keeps_forwarded_mail_whole_on_request():
    text = "Vedi sotto.\n\n-----Original Message-----\nFrom: x\nSent: y\nTo: z\n\nErrore"
    assert split_reply(text)[0] == "Vedi sotto."
    assert split_reply(text, forwarded=True) == (text, "")


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Fwd: errore", True),
        ("FW: errore", True),
        ("I: errore", True),
        ("WG: Fehler", True),
        ("TR: erreur", True),
        ("Re: errore", False),
        ("Informazioni: errore", False),
        ("", False),
    ],
)
def test_is_forward_subject(subject, expected):
    assert is_forward_subject(subject) is expected


def test_it_handles_crlf_and_cr_line_ends():
    text = "Ok.\r\n\r\nOn Mon, Mar 2, 2026 at 9:00 AM Mario <m@example.it> wrote:\r\n> ciao\r\n"
    assert split_reply(text) == (
        "Ok.",
        "On Mon, Mar 2, 2026 at 9:00 AM Mario <m@example.it> wrote:\n> ciao",
    )
    assert split_reply(text.replace("\r\n", "\r"))[0] == "Ok."


_LINES = st.sampled_from(
    [
        "",
        "Buongiorno,",
        "la stampante non va.",
        "> citazione",
        ">",
        "-- ",
        "--",
        "Mario Rossi",
        "Inviato da iPhone",
        "On Mon, Mar 2, 2026 at 9:00 AM Mario <m@example.it> wrote:",
        "Il giorno 2 mar 2026 Mario ha scritto:",
        "-----Original Message-----",
        "From: Mario <m@example.it>",
        "Sent: Monday",
        "To: Luca",
        "---------- Forwarded message ---------",
        "   ",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_LINES, max_size=25))
def test_it_never_loses_a_line(lines):
    text = "\n".join(lines)
    new, history = split_reply(text)
    kept = [line.strip() for line in (new + "\n" + history).split("\n") if line.strip()]
    original = [line.strip() for line in lines if line.strip()]
    assert sorted(kept) == sorted(original)
    if original:
        assert new.strip()  # never an empty new content for a non-empty mail
