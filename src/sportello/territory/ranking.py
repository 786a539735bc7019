"""Who should take a new ticket: a plain ranking of the technicians, tested by a table.

Three facts decide, in this order:

1. how many of the two matches a technician has: the **zone** (their home zone is the
   zone of the ticket's organisation) and the **skills** (one of their skills is what
   the ticket needs: its category or its tags);
2. with as many matches, the zone first: a pick-up is a drive, and a technician far
   away costs the morning, while most skills are shared;
3. then the **load**: fewer open tickets assigned to them (new, open, waiting) first;
   then the name, so the order never changes between two reloads.

The reason is written out for the agent who decides ("zona Narni, competenza rete,
3 ticket aperti"): the ranking proposes, a person assigns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sportello.search.text import stems, words


@dataclass(frozen=True)
class Candidate:
    """A technician who may take tickets, as the ranking sees them."""

    agent_id: int
    name: str
    zone_id: int | None = None
    zone_name: str = ""
    skills: tuple[str, ...] = ()
    load: int = 0  # open tickets assigned to them


@dataclass(frozen=True)
class Need:
    """What the ticket asks for: its organisation's zone, and its category and tags."""

    zone_id: int | None = None
    zone_name: str = ""
    wants: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    agent_id: int
    name: str
    in_zone: bool
    skills: tuple[str, ...] = field(default=())  # the technician's skills the ticket wants
    load: int = 0
    zone_name: str = ""

    @property
    def reason(self) -> str:
        """``zona Narni, competenza rete, 3 ticket aperti`` in the active language."""
        parts = []
        if self.in_zone:
            parts.append(_("zone %(zone)s") % {"zone": self.zone_name})
        if self.skills:
            parts.append(_("skill %(skills)s") % {"skills": ", ".join(self.skills).lower()})
        parts.append(
            ngettext("%(n)d open ticket", "%(n)d open tickets", self.load) % {"n": self.load}
        )
        return ", ".join(parts)


def _stem_sets(text: str) -> list[frozenset[str]]:
    """Each word of ``text`` as its Italian and English stems (search.text's Snowball)."""
    return [frozenset(stems(word)) for word in words(text)]


def skill_matches(skill: str, wants: Iterable[str]) -> bool:
    """A skill answers a need when every word of the skill is a word of the need, as the
    search box compares words: case, accents, singular and plural aside. Skill "Reti"
    answers category "rete", "Reti e Wi-Fi" and tag "reti"; "Stampanti" answers
    "stampante"."""
    needed = _stem_sets(skill)
    if not needed:
        return False
    for want in wants:
        have = _stem_sets(want)
        if all(any(word & other for other in have) for word in needed):
            return True
    return False


def rank(need: Need, candidates: Iterable[Candidate], *, limit: int = 3) -> list[Suggestion]:
    """The best ``limit`` technicians for ``need``, best first (see the module's rules)."""
    wants = tuple(w for w in need.wants if w and w.strip())
    scored = []
    for c in candidates:
        in_zone = need.zone_id is not None and c.zone_id == need.zone_id
        skills = tuple(s for s in c.skills if skill_matches(s, wants))
        matches = int(in_zone) + int(bool(skills))
        key = (-matches, not in_zone, c.load, c.name.casefold(), c.agent_id)
        scored.append((key, Suggestion(c.agent_id, c.name, in_zone, skills, c.load, c.zone_name)))
    scored.sort(key=lambda pair: pair[0])
    return [s for _key, s in scored[:limit]]
