from __future__ import annotations

import logging
import time

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .models import SupportSettings

log = logging.getLogger(__name__)


@never_cache
@require_GET
def health(request):
    """Unauthenticated liveness check of the database and the queue, for load balancers.

    Answers 200 with ``{"status": "ok"}`` or 503 naming the part that failed.
    """
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "down"
        log.error("health: database down", extra={"error": str(exc)})
        checks["database"] = "error"
    try:
        from huey.contrib.djhuey import HUEY

        HUEY.storage.queue_size()
        checks["queue"] = "ok"
    except Exception as exc:
        log.error("health: queue down", extra={"error": str(exc)})
        checks["queue"] = "error"
    ok = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "error", "checks": checks, "time": time.time()},
        status=200 if ok else 503,
    )


def home(request):
    return render(request, "core/home.html", {"support": SupportSettings.load()})


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    return render(request, "500.html", status=500)


def error_403(request, exception=None):
    return render(request, "403.html", status=403)


def error_400(request, exception=None):
    return render(request, "400.html", status=400)


def error_429(request, exception=None):
    """Too many requests (a rate limit, or too many failed logins), in the site's language.

    allauth answers its rate limits through ``handler429`` of the root URL conf."""
    return render(request, "429.html", status=429)
