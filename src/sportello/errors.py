"""The root of Sportello's exceptions.

Pure Python on purpose: the tariff engine and the mail parser import it and
must stay free of Django.
"""

from __future__ import annotations


class SportelloError(Exception):
    """An error whose message says what is wrong, where, and how to fix it.

    ``code`` is a short stable string (for APIs and tests); ``field`` names the
    offending input when there is one.
    """

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field

    def __str__(self) -> str:
        return self.message
