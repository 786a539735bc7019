"""The suggested assignee: the ranking rules as a table, one row a case (STYLE 2.5)."""

from __future__ import annotations

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from sportello.territory.ranking import Candidate, Need, rank, skill_matches

NARNI, TERNI = 1, 2
MARIO = Candidate(1, "Mario Verdi", NARNI, "Narni", ("Reti", "Windows"), load=3)
LUCIA = Candidate(2, "Lucia Neri", NARNI, "Narni", ("Stampanti",), load=1)
BOB = Candidate(3, "Bob Tecnico", TERNI, "Terni", ("Reti",), load=0)
ADA = Candidate(4, "Ada Bassi", TERNI, "Terni", ("Linux",), load=0)
EVERYONE = (MARIO, LUCIA, BOB, ADA)

CASES = [
    # (name, need, candidates, expected order of names, reason of the first, in Italian)
    (
        "zone and skill beat zone alone and skill alone",
        Need(NARNI, "Narni", ("rete",)),
        EVERYONE,
        ["Mario Verdi", "Lucia Neri", "Bob Tecnico"],
        "zona Narni, competenza reti, 3 ticket aperti",
    ),
    (
        "with as many matches the zone comes first: Lucia (zone) before Bob (skill)",
        Need(NARNI, "Narni", ("stampanti",)),
        (MARIO, BOB, Candidate(5, "Ugo Rete", TERNI, "Terni", ("Stampanti",), load=0)),
        ["Mario Verdi", "Ugo Rete", "Bob Tecnico"],
        "zona Narni, 3 ticket aperti",
    ),
    (
        "same matches: the lighter load first",
        Need(NARNI, "Narni", ()),
        EVERYONE,
        ["Lucia Neri", "Mario Verdi", "Ada Bassi"],
        "zona Narni, 1 ticket aperto",
    ),
    (
        "no zone known (organisation in no zone): skill, then load",
        Need(None, "", ("Rete",)),
        EVERYONE,
        ["Bob Tecnico", "Mario Verdi", "Ada Bassi"],
        "competenza reti, 0 ticket aperti",
    ),
    (
        "nothing matches: the load alone, then the name",
        Need(None, "", ()),
        EVERYONE,
        ["Ada Bassi", "Bob Tecnico", "Lucia Neri"],
        "0 ticket aperti",
    ),
    (
        "a tag counts like the category; plural and accents aside",
        Need(TERNI, "Terni", ("hardware", "stampante")),
        EVERYONE,
        ["Ada Bassi", "Bob Tecnico", "Lucia Neri"],
        "zona Terni, 0 ticket aperti",
    ),
    (
        "a skill the ticket wants, in a technician of the zone",
        Need(TERNI, "Terni", ("Linux",)),
        EVERYONE,
        ["Ada Bassi", "Bob Tecnico", "Lucia Neri"],
        "zona Terni, competenza linux, 0 ticket aperti",
    ),
    ("nobody to suggest", Need(NARNI, "Narni", ("rete",)), (), [], None),
]


@pytest.mark.parametrize(
    ("name", "need", "candidates", "order", "reason"), CASES, ids=[c[0] for c in CASES]
)
def test_the_ranking_orders_technicians_and_says_why(name, need, candidates, order, reason):
    with translation.override("it"):
        found = rank(need, candidates)
        assert [s.name for s in found] == order
        if reason is not None:
            assert found[0].reason == reason


def test_it_lists_at_most_the_limit_asked():
    assert len(rank(Need(), EVERYONE, limit=2)) == 2
    assert len(rank(Need(), EVERYONE, limit=10)) == 4


def test_the_reason_reads_in_english_too():
    with translation.override("en"):
        first = rank(Need(NARNI, "Narni", ("rete",)), EVERYONE)[0]
        assert first.reason == "zone Narni, skill reti, 3 open tickets"


SKILLS = [
    ("Reti", "rete", True),
    ("Reti", "Reti e Wi-Fi", True),
    ("Stampanti", "stampante", True),
    ("Posta", "Posta elettronica", True),
    ("Posta elettronica", "posta", False),  # every word of the skill must be there
    ("Windows", "rete", False),
    ("", "rete", False),
    ("Reti", "", False),
]


@pytest.mark.parametrize(("skill", "want", "matches"), SKILLS)
def test_a_skill_answers_a_need_as_the_search_box_compares_words(skill, want, matches):
    assert skill_matches(skill, [want]) is matches


candidate = st.builds(
    Candidate,
    agent_id=st.integers(1, 10_000),
    name=st.sampled_from(["Ada", "Bob", "Lucia", "Mario", "Sara"]),
    zone_id=st.sampled_from([None, NARNI, TERNI]),
    skills=st.lists(st.sampled_from(["Reti", "Linux", "Stampanti"]), max_size=2).map(tuple),
    load=st.integers(0, 30),
)


@given(
    st.lists(candidate, max_size=8, unique_by=lambda c: c.agent_id),
    st.sampled_from([None, NARNI, TERNI]),
    st.lists(st.sampled_from(["rete", "linux", "hardware"]), max_size=2),
)
def test_more_matches_never_rank_below_fewer_and_lighter_load_first(candidates, zone, wants):
    ranked = rank(Need(zone, "Z", tuple(wants)), candidates, limit=len(candidates))
    assert sorted(s.agent_id for s in ranked) == sorted(c.agent_id for c in candidates)
    keys = [(-(s.in_zone + bool(s.skills)), not s.in_zone, s.load) for s in ranked]
    assert keys == sorted(keys)
