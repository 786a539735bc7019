"""Serving stored attachments; the desk's download view (desk.views.attachment) checks
who may read them."""

from django.http import FileResponse

from .files import HEAD_BYTES, is_safe_image
from .models import Attachment


def attachment_response(attachment: Attachment) -> FileResponse:
    """Serve a stored attachment: images whose bytes prove it inline, anything else as
    a download (the type a sender declared proves nothing)."""
    handle = attachment.file.open("rb")
    head = handle.read(HEAD_BYTES)
    handle.seek(0)
    inline = is_safe_image(content_type=attachment.content_type, head=head)
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=attachment.filename,
        content_type=attachment.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
