"""Billing errors: each message says what is wrong, where, and how to fix it."""

from sportello.errors import SportelloError


class BillingError(SportelloError):
    code = "billing_error"


class StatementInputError(BillingError):
    """Bad input for a statement, a line or a note; ``field`` names it."""

    code = "invalid_input"


class StatementImmutableError(BillingError):
    """An issued statement never changes: corrections are credit or debit notes."""

    code = "statement_issued"


class StatementBlockedError(BillingError):
    """A draft cannot be issued yet; ``blockers`` lists why (each with a code)."""

    code = "statement_blocked"

    def __init__(self, message: str, *, blockers: list | None = None):
        super().__init__(message)
        self.blockers = blockers or []


class FatturaPAInvalidError(BillingError):
    """The XML built for a statement does not validate against the FatturaPA schema."""

    code = "fatturapa_invalid"

    def __init__(self, message: str, *, element: str = "", reason: str = ""):
        super().__init__(message)
        self.element = element
        self.reason = reason
