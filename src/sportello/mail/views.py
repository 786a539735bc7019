from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import patch_cache_control

from sportello.staff import roles

from .models import RawMessage


def raw_download(request, pk: int):
    """The message exactly as received, for whoever may open the desk's ticket pages
    (the same role check, staff.roles.can_work_tickets); never for customers."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("desk:login"))
    if not roles.can_work_tickets(request.user):
        raise PermissionDenied
    row = get_object_or_404(RawMessage, pk=pk)
    response = FileResponse(
        row.file.open("rb"),
        as_attachment=True,
        filename=f"message-{row.pk}.eml",
        content_type="message/rfc822",
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response
