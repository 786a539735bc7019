from django.contrib.admin.views.decorators import staff_member_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404

from .models import RawMessage


@staff_member_required
def raw_download(request, pk: int):
    """The message exactly as received, for agents (never for customers)."""
    row = get_object_or_404(RawMessage, pk=pk)
    response = FileResponse(
        row.file.open("rb"),
        as_attachment=True,
        filename=f"message-{row.pk}.eml",
        content_type="message/rfc822",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
