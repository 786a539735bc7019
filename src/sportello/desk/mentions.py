"""@mentions in internal notes: which agents a note names, and where.

One plain function (``mentions_find``) reads the text against the agents' directory; the
desk notifies whoever it returns (``desk.notify``) and the ticket page highlights the
same spans (``desk.templatetags.desk.mention_text``), so both agree by construction.

Rules, in order, for ``@word`` (a word of letters, digits, ``.``, ``-``, ``_``, ``+``;
a trailing ``.`` or ``-`` is punctuation, not part of it):

- it starts the text or follows a character that cannot be part of a word, so
  ``mario@init-s.it`` is an address, not a mention;
- ``@username`` names the agent with that username (any case);
- otherwise ``@Nome`` names the agent with that first name (any case), when exactly one
  active agent has it; two agents called Luca need their usernames;
- anything else is left as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]*\w)", re.UNICODE)


@dataclass(frozen=True)
class MentionTarget:
    """An agent as the parser sees it."""

    agent_id: int
    username: str
    first_name: str = ""


@dataclass(frozen=True)
class Mention:
    """``text[start:end]`` (the ``@`` included) names the agent ``agent_id``."""

    start: int
    end: int
    agent_id: int


def mentions_find(text: str, directory: Iterable[MentionTarget]) -> list[Mention]:
    """Every mention of an agent in ``text``, in reading order."""
    by_username: dict[str, int] = {}
    by_first: dict[str, list[int]] = {}
    for target in directory:
        by_username[target.username.casefold()] = target.agent_id
        if target.first_name.strip():
            by_first.setdefault(target.first_name.strip().casefold(), []).append(target.agent_id)
    found = []
    for match in MENTION.finditer(text or ""):
        word = match.group(1).casefold()
        agent_id = by_username.get(word)
        if agent_id is None and len(by_first.get(word, ())) == 1:
            agent_id = by_first[word][0]
        if agent_id is not None:
            found.append(Mention(match.start(), match.end(), agent_id))
    return found


def mentioned_agents(mentions: Iterable[Mention]) -> list[int]:
    """The agents named, each once, in the order first named."""
    return list(dict.fromkeys(m.agent_id for m in mentions))
