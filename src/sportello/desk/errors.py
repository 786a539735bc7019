"""Errors of the agent desk; views turn them into a message on the page, never a 500."""

from sportello.errors import SportelloError


class DeskError(SportelloError):
    code = "desk_error"


class DeskInputError(DeskError):
    """Bad input in a desk form; ``field`` names it."""

    code = "invalid_input"


class DeskPermissionError(DeskError):
    """The signed-in role may not do this (the view answers 403)."""

    code = "forbidden"
