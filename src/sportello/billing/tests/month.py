"""A hand-made month (November 2026) with totals computed by hand, shared by the tests.

Organisation A (Terni, in the district, R = 60.00):
  T1 e-mail, 4 written messages (N > 3: 50% R)                        30.00
  T2 phone, e-mail was possible: 12 min in hours (50% R) + fee 25.00   55.00
  T3 phone out of hours 12 min (50% of 1.5 R = 45.00), fee waived      45.00
  T4 e-mail, 2 messages (25% R = 15.00) + remote 40 min in hours
     (100% R, the highest mode alone) + pick-up and return legs in the district
     (50% R each)                                                       120.00
                                                                net   250.00
                                                                VAT    55.00
                                                              total   305.00
Organisation B (Orvieto, outside, 40 km, R = 50.00):
  T5 e-mail, 1 message (25% R = 12.50) + a pick-up leg, 40 km x 1.00   52.50
                                                                VAT    11.55
                                                              total    64.05
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sportello.tickets import services
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Status
from sportello.tickets.tests.factories import ContactFactory, OrganisationFactory, cast

ROME = ZoneInfo("Europe/Rome")


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ROME)


def close(ticket, day: int, month: int = 11):
    services.ticket_change_status(ticket=ticket, status=Status.CLOSED, when=at(day, 17, 0, month))
    return ticket


def november() -> dict:
    people = cast()
    org_a = people["org_a"]
    org_a.sdi_code = "M5UXCR1"
    org_a.comune = "Terni"
    org_a.address, org_a.postcode, org_a.province = "Via Roma 1", "05100", "TR"
    org_a.save()
    org_b = OrganisationFactory(
        name="Bruno Orvieto S.n.c.",
        hourly_rate=Decimal("50.00"),
        in_district=False,
        distance_km=Decimal("40.0"),
        comune="Orvieto",
        address="Corso Cavour 3",
        postcode="05018",
        province="TR",
        pec="bruno@pec.example.it",
    )
    bruno = ContactFactory(organisation=org_b, first_name="Bruno", last_name="Neri")
    alice = people["alice"]

    t1 = services.ticket_open(
        subject="Posta che non arriva",
        channel="email",
        contact=alice,
        created_at=at(2, 10),
        message=MessageInput(text="Aiuto"),
    )
    for n in range(3):
        services.message_add(
            ticket=t1,
            message=MessageInput(
                kind="email", direction="out" if n % 2 == 0 else "in", text=f"m{n}"
            ),
        )
    close(t1, 3)

    t2 = services.ticket_open(
        subject="Telefonata stampante",
        channel="phone",
        contact=alice,
        official_channels_possible=True,
        created_at=at(4, 10),
        message=MessageInput(text=""),
    )
    services.intervention_add(ticket=t2, kind="phone", started_at=at(4, 10), duration_seconds=720)
    close(t2, 4)

    t3 = services.ticket_open(
        subject="Server fermo di sera",
        channel="phone",
        contact=alice,
        official_channels_possible=True,
        created_at=at(5, 20),
        message=MessageInput(text=""),
    )
    services.intervention_add(ticket=t3, kind="phone", started_at=at(5, 20), duration_seconds=720)
    services.ticket_update(ticket=t3, waive_call_fee=True, waive_reason="Cliente storico")
    close(t3, 6)

    t4 = services.ticket_open(
        subject="PC lento",
        channel="email",
        contact=alice,
        created_at=at(9, 9),
        message=MessageInput(text="Lentissimo"),
    )
    services.message_add(
        ticket=t4, message=MessageInput(kind="email", direction="out", text="Lo ritiriamo")
    )
    services.intervention_add(ticket=t4, kind="remote", started_at=at(9, 10), duration_seconds=2400)
    services.intervention_add(ticket=t4, kind="pickup", started_at=at(10, 9))
    services.intervention_add(ticket=t4, kind="return", started_at=at(12, 15))
    close(t4, 12)

    t5 = services.ticket_open(
        subject="Stampante da ritirare",
        channel="email",
        contact=bruno,
        created_at=at(16, 9),
        message=MessageInput(text="Non va"),
    )
    services.intervention_add(ticket=t5, kind="pickup", started_at=at(17, 9))
    close(t5, 18)
    return {**people, "org_b": org_b, "bruno": bruno, "tickets": [t1, t2, t3, t4, t5]}
