"""Errors of the territory app (STYLE 2.3): views show them beside the form, never a 500."""

from sportello.errors import SportelloError


class TerritoryError(SportelloError):
    code = "territory_error"


class TerritoryInputError(TerritoryError):
    """Bad input in a visit or feed form; ``field`` names it."""

    code = "invalid_input"


class TerritoryPermissionError(TerritoryError):
    """The signed-in role may not do this to this visit (the view answers 403)."""

    code = "forbidden"
