"""Errors of the staff records; the desk and the admin show their message."""

from sportello.errors import SportelloError


class StaffInputError(SportelloError):
    """Bad input for an agent's record; ``field`` names it."""

    code = "invalid_input"
