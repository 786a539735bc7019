"""Reads of the mail app: stored files checked against their rows."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet

from sportello.core.files import storage_mismatch
from sportello.tickets.models import Attachment

from .models import RawMessage


def raw_file_mismatches(
    *, queryset: QuerySet[RawMessage] | None = None
) -> Iterator[tuple[RawMessage, str]]:
    """(row, reason) for every received e-mail whose stored file is missing or is not the
    bytes the row records (size and SHA-256). Reads every file: as long as the store."""
    rows = RawMessage.objects.all() if queryset is None else queryset
    fields = ("pk", "file", "size", "sha256", "state", "message_id", "received_at")
    for row in rows.only(*fields).order_by("pk").iterator(chunk_size=500):
        reason = storage_mismatch(row.file.name, size=row.size, sha256=row.sha256)
        if reason:
            yield row, reason


def attachment_file_mismatches(
    *, queryset: QuerySet[Attachment] | None = None
) -> Iterator[tuple[Attachment, str]]:
    """(attachment, reason) for every attachment (from e-mail or the portal) whose file
    does not hold the bytes its row records."""
    rows = Attachment.objects.all() if queryset is None else queryset
    fields = ("pk", "file", "size", "sha256", "ticket_id", "filename")
    for row in rows.only(*fields).order_by("pk").iterator(chunk_size=500):
        reason = storage_mismatch(row.file.name, size=row.size, sha256=row.sha256)
        if reason:
            yield row, reason
