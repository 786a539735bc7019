from django.contrib.admin.views.decorators import staff_member_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404

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


@staff_member_required
def staff_attachment(request, pk: int):
    """An attachment of any ticket, for agents."""
    return attachment_response(get_object_or_404(Attachment, pk=pk))
