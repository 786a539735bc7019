"""What customers ask of the apps built on them, without importing them (STYLE 2.1)."""

from django.dispatch import Signal

# Which comuni form the lab's district on a date: the tariff knows (billing answers with
# a frozenset of names in ``identifiers.comune_key`` form). Arguments: on (a date).
district_wanted = Signal()
