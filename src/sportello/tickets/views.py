from django.contrib.admin.views.decorators import staff_member_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404

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


@staff_member_required
def staff_attachment(request, pk: int):
    """An attachment of any ticket, for agents."""
    return attachment_response(get_object_or_404(Attachment, pk=pk))
