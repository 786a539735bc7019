"""Errors of the search app (STYLE 2.3)."""

from sportello.errors import SportelloError


class SearchError(SportelloError):
    """The search could not be run; the message says why and what to do."""
