from sportello.errors import SportelloError


class IntakeError(SportelloError):
    """Our fault (database down, bug): keep the raw message, retry later."""

    code = "intake_error"


class IntakeUserError(IntakeError):
    """The sender's fault (not for us, too big): refuse or quarantine, never retry."""

    code = "intake_user_error"
