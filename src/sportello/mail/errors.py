from sportello.errors import SportelloError


class IntakeError(SportelloError):
    """Our fault (database down, bug): keep the raw message, retry later."""

    code = "intake_error"


class StoredFileMismatch(IntakeError):
    """The stored raw file is missing or is not the bytes its row records (size, SHA-256):
    quarantined, never filed, until the same bytes are delivered again or restored."""

    code = "stored_file_mismatch"
