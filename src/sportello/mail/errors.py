from sportello.errors import SportelloError


class IntakeError(SportelloError):
    """Our fault (database down, bug): keep the raw message, retry later."""

    code = "intake_error"
