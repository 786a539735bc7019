"""Placeholders of canned replies: ``{{ contatto.nome }}``, ``{{ ticket.numero }}``, ...

One context per ticket and agent, built here, fills them at insertion and again at
sending, so a reply never carries a stale name (peers' recurring bug: values empty on
first insert or stale after the contact changed). Substitution is plain text, never a
template engine: a canned reply cannot run code or read anything not listed here. An
unknown placeholder is left visible and blocks sending until the agent fixes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)\s*\}\}")


def placeholder_context(*, ticket, user) -> dict[str, str]:
    contact = ticket.contact
    org = ticket.organisation
    agent_name = (user.get_full_name() or user.get_username()) if user else ""
    return {
        "contatto.nome": contact.first_name if contact else "",
        "contatto.cognome": contact.last_name if contact else "",
        "contatto.nome_completo": str(contact) if contact else "",
        "organizzazione.nome": org.name if org else "",
        "ticket.numero": ticket.number,
        "ticket.oggetto": ticket.subject,
        "operatore.nome": user.first_name if user else "",
        "operatore.nome_completo": agent_name,
    }


@dataclass(frozen=True)
class Rendered:
    text: str
    unknown: tuple[str, ...]


def placeholders_render(text: str, context: dict[str, str]) -> Rendered:
    """Fill the known placeholders; return the unknown ones, which stay in the text."""
    unknown: list[str] = []

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name in context:
            return context[name]
        if name not in unknown:
            unknown.append(name)
        return match.group(0)

    return Rendered(PLACEHOLDER.sub(fill, text or ""), tuple(unknown))
