"""Two admins saving two new zones at once, each with Narni: one zone gets it, the other
is refused, never both (a comune belongs to one zone)."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction

from sportello.core.testenv import wait_for
from sportello.staff.models import Zone
from sportello.staff.services import zone_save

pytestmark = pytest.mark.django_db(transaction=True)


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_two_new_zones_with_one_comune_at_once_leave_it_in_one():
    saved, release = threading.Event(), threading.Event()
    refused: list[ValidationError] = []
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                zone_save(zone=Zone(name="Terni", comuni=["Terni", "Narni"]))
                saved.set()
                release.wait(60)  # still uncommitted while the second one checks
        except BaseException as exc:
            errors.append(exc)
            saved.set()
        finally:
            connections.close_all()

    def second() -> None:
        try:
            saved.wait(60)
            zone_save(zone=Zone(name="Narni-Amelia", comuni=["Narni", "Amelia"]))
        except ValidationError as exc:
            refused.append(exc)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    saved.wait(60)
    if connection.vendor == "postgresql":
        wait_for(_waiting_on_a_lock, what="the second save to wait for the first")
    release.set()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(refused) == 1
    assert list(Zone.objects.values_list("name", flat=True)) == ["Terni"]
