"""The dashboard page (agents and up); the unbilled value only for billing users."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from sportello.staff import roles

from .access import agent_view
from .dashboard import dashboard as dashboard_read


@agent_view
@require_GET
def dashboard(request):
    data = dashboard_read(with_billing=roles.can_bill(request.user))
    return render(request, "desk/dashboard.html", {"d": data})
