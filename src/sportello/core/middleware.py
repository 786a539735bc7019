"""Response headers every page needs (STYLE 2.10, issue 15 finding 8)."""

from __future__ import annotations

from django.utils.cache import patch_vary_headers


class PrivatePagesMiddleware:
    """``Cache-Control: private, no-store`` on every response to a signed-in person.

    A page behind a login (ticket lists, tickets, charges, account pages, downloads)
    must not stay in a shared proxy, nor in the browser's cache for the next person at
    the same computer. Public pages are left to their own headers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "private, no-store"
            patch_vary_headers(response, ["Cookie"])
        return response
