from sportello.errors import SportelloError


class PortalError(SportelloError):
    """Something a customer asked the portal that it cannot do; the message says why."""

    code = "portal_error"


class PortalInputError(PortalError):
    """Bad input from a portal form (an attachment too large, a rating out of range)."""

    code = "invalid_input"
