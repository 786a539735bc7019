from sportello.errors import SportelloError


class TicketError(SportelloError):
    code = "ticket_error"


class InvalidTransitionError(TicketError):
    code = "invalid_transition"


class TicketInputError(TicketError):
    """Bad input for a ticket, a message or an intervention; ``field`` names it."""

    code = "invalid_input"
