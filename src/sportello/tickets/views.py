"""Serving stored attachments; the desk's download view (desk.views.attachment) checks
who may read them."""

from django.http import FileResponse

from .models import Attachment

# Images a browser shows without running anything; everything else is downloaded.
SAFE_INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def attachment_response(attachment: Attachment) -> FileResponse:
    """Serve a stored attachment: safe images inline, anything else as a download."""
    inline = attachment.content_type in SAFE_INLINE_TYPES
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not inline,
        filename=attachment.filename,
        content_type=attachment.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
