"""``sportello bench-data --tickets N``: a synthetic data set for benchmarks.

500 organisations (by default), about 4 messages per ticket, a third with a phone
call, remote session or pick-up in Italian and English,
channels, statuses and dates spread over 3 years. Bulk-inserted in batches, so
100,000 tickets take minutes, not hours. It refuses to run on a database that
already has tickets unless ``--force`` is given, so it never pollutes real data.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from sportello.core.demo import partita_iva_with_check
from sportello.customers.models import Contact, ContactEmail, Organisation, OrganisationDomain
from sportello.tickets.models import (
    Channel,
    Direction,
    Intervention,
    Message,
    MessageKind,
    Status,
    Ticket,
    TicketEvent,
)
from sportello.tickets.services import ticket_number_last, ticket_number_set_last

# Roughly what a support desk sees: mostly e-mail, then portal, a tail of the rest.
CHANNEL_WEIGHTS = {
    Channel.EMAIL: 55,
    Channel.PORTAL: 25,
    Channel.PHONE: 10,
    Channel.OTHER_EMAIL: 4,
    Channel.WHATSAPP: 3,
    Channel.SMS: 2,
    Channel.OTHER: 1,
}
STATUS_WEIGHTS = {
    Status.CLOSED: 70,
    Status.RESOLVED: 10,
    Status.OPEN: 8,
    Status.WAITING: 5,
    Status.NEW: 7,
}

WORDS_IT = (
    "stampante server posta backup rete password utente licenza aggiornamento "
    "errore lentezza monitor firewall antivirus gestionale portatile"
).split()
WORDS_EN = (
    "printer server mail backup network password user licence update error "
    "slow monitor firewall antivirus invoicing laptop"
).split()
SENTENCES_IT = [
    "Buongiorno, da stamattina {w} non funziona più.",
    "Vi segnalo un problema con {w}: compare un messaggio di errore.",
    "Grazie, abbiamo verificato {w} e ora funziona.",
    "Potete collegarvi in remoto per controllare {w}?",
]
SENTENCES_EN = [
    "Hello, since this morning the {w} stopped working.",
    "We have a problem with the {w}: an error message appears.",
    "Thanks, we checked the {w} and it works now.",
    "Could you connect remotely to look at the {w}?",
]
# One of 100 made-up device names in each ticket's first message: a word that matches
# about 1% of tickets, for the search benchmark. Drawn from a generator of its own, so
# the rest of the data set is what it was before they existed.
DEVICE_CODES = [
    a + b
    for a in ("ba", "ce", "di", "fo", "gu", "la", "me", "ni", "po", "ru")
    for b in ("ltor", "mix", "nova", "pel", "stra", "tel", "vix", "zon", "rak", "dur")
]
DEVICE_IT = " Riguarda l'apparato {code}."
DEVICE_EN = " It concerns the {code} unit."


class Command(BaseCommand):
    help = "Bulk-insert a synthetic data set (tickets, messages, events) for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, required=True, help="How many tickets.")
        parser.add_argument("--organisations", type=int, default=500)
        parser.add_argument("--messages-per-ticket", type=int, default=4)
        parser.add_argument("--batch", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--force", action="store_true", help="Add to a database that already has tickets."
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **opts):
        if opts["tickets"] <= 0:
            raise CommandError(
                "--tickets must be a positive number, e.g. --tickets 100000.", returncode=2
            )
        if Ticket.objects.exists() and not opts["force"]:
            raise CommandError(
                "The database already has tickets; bench-data is for an empty benchmark "
                "database. Pass --force to add to it anyway.",
                returncode=2,
            )
        rng = random.Random(opts["seed"])
        self.device_rng = random.Random(opts["seed"] + 1)
        orgs, contacts_by_org = self.make_customers(rng, opts["organisations"])
        self.make_tickets(rng, opts, orgs, contacts_by_org)
        # bulk_create sends no signals: the search index is built once, at the end.
        from sportello.search.index import index_rebuild

        indexed = index_rebuild()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        return (
            f"Inserted {opts['tickets']} tickets with about "
            f"{opts['tickets'] * opts['messages_per_ticket']} messages; "
            f"search index built in {indexed.seconds:.1f} s."
        )

    def device_sentence(self, english: bool) -> str:
        code = self.device_rng.choice(DEVICE_CODES)
        return (DEVICE_EN if english else DEVICE_IT).format(code=code)

    def make_customers(self, rng, count):
        start = Organisation.objects.count()
        orgs = []
        for i in range(count):
            n = start + i
            in_district = rng.random() < 0.6
            orgs.append(
                Organisation(
                    name=f"Cliente Benchmark {n:05d} S.r.l.",
                    vat_number=partita_iva_with_check(f"{9000000000 + n:010d}"),
                    comune="Terni" if in_district else "Perugia",
                    hourly_rate=Decimal(rng.choice(["45.00", "50.00", "55.00", "60.00", "70.00"])),
                    in_district=in_district,
                    distance_km=None if in_district else Decimal(rng.randint(10, 90)),
                )
            )
        orgs = Organisation.objects.bulk_create(orgs, batch_size=1000)
        OrganisationDomain.objects.bulk_create(
            [OrganisationDomain(organisation=o, domain=f"cliente{o.pk}.example.it") for o in orgs],
            batch_size=1000,
        )
        contacts = []
        for org in orgs:
            # A few large customers, many small ones.
            for j in range(rng.choice([1, 1, 2, 3, 5])):
                contacts.append(
                    Contact(
                        organisation=org,
                        first_name=f"Utente{j}",
                        last_name=f"Org{org.pk}",
                        is_manager=j == 0,
                    )
                )
        contacts = Contact.objects.bulk_create(contacts, batch_size=2000)
        ContactEmail.objects.bulk_create(
            [
                ContactEmail(
                    contact=c, address=f"utente{c.pk}@cliente{c.organisation_id}.example.it"
                )
                for c in contacts
            ],
            batch_size=2000,
        )
        by_org: dict[int, list[Contact]] = {}
        for c in contacts:
            by_org.setdefault(c.organisation_id, []).append(c)
        return orgs, by_org

    def make_tickets(self, rng, opts, orgs, contacts_by_org):
        total = opts["tickets"]
        batch = opts["batch"]
        per_ticket = opts["messages_per_ticket"]
        now = timezone.now()
        span = timedelta(days=3 * 365).total_seconds()
        channels, channel_w = zip(*CHANNEL_WEIGHTS.items(), strict=True)
        statuses, status_w = zip(*STATUS_WEIGHTS.items(), strict=True)
        # Large organisations get a bigger share of tickets (Pareto-like).
        org_weights = [1.0 / (i + 1) ** 0.8 for i in range(len(orgs))]
        sequences: dict[int, int] = {}
        progress = tqdm(total=total, unit="ticket", disable=opts["no_progress"])
        done = 0
        while done < total:
            size = min(batch, total - done)
            created = sorted(now - timedelta(seconds=rng.random() * span) for _ in range(size))
            tickets = []
            for when in created:
                org = rng.choices(orgs, org_weights)[0]
                contact = rng.choice(contacts_by_org[org.pk])
                year = timezone.localtime(when).year
                if year not in sequences:
                    sequences[year] = ticket_number_last(year=year)
                sequences[year] += 1
                status = rng.choices(statuses, status_w)[0]
                english = rng.random() < 0.2
                word = rng.choice(WORDS_EN if english else WORDS_IT)
                tickets.append(
                    Ticket(
                        number=f"{year}-{sequences[year]:06d}",
                        subject=(f"Problem with the {word}" if english else f"Problema {word}"),
                        organisation=org,
                        contact=contact,
                        channel=rng.choices(channels, channel_w)[0],
                        status=status,
                        created_at=when,
                        resolved_at=when + timedelta(hours=4)
                        if status in (Status.RESOLVED, Status.CLOSED)
                        else None,
                        closed_at=when + timedelta(days=2) if status == Status.CLOSED else None,
                    )
                )
            with transaction.atomic():
                tickets = Ticket.objects.bulk_create(tickets, batch_size=batch)
                messages, events, interventions = [], [], []
                for t in tickets:
                    roll = rng.random()
                    if roll < 0.35:
                        kind = "phone" if roll < 0.15 else "remote" if roll < 0.30 else "pickup"
                        interventions.append(
                            Intervention(
                                ticket=t,
                                kind=kind,
                                started_at=t.created_at + timedelta(hours=1),
                                duration_seconds=None
                                if kind == "pickup"
                                else rng.choice([180, 320, 600, 1200, 2700, 4500]),
                            )
                        )
                    english = t.subject.startswith("Problem")
                    sentences = SENTENCES_EN if english else SENTENCES_IT
                    words = WORDS_EN if english else WORDS_IT
                    events.append(
                        TicketEvent(
                            ticket=t,
                            kind=TicketEvent.Kind.CREATED,
                            actor_label="bench",
                            created_at=t.created_at,
                            data={"channel": t.channel},
                        )
                    )
                    count = max(1, per_ticket + rng.randint(-2, 2))
                    for k in range(count):
                        inbound = k % 2 == 0
                        messages.append(
                            Message(
                                ticket=t,
                                direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
                                kind=MessageKind.EMAIL
                                if t.channel != Channel.PORTAL
                                else MessageKind.PORTAL,
                                author_contact_id=t.contact_id if inbound else None,
                                sender="cliente" if inbound else "assistenza@init-s.it",
                                subject=t.subject,
                                text=" ".join(
                                    rng.choice(sentences).format(w=rng.choice(words))
                                    for _ in range(3)
                                )
                                + (self.device_sentence(english) if k == 0 else ""),
                                created_at=t.created_at + timedelta(minutes=30 * k),
                            )
                        )
                Message.objects.bulk_create(messages, batch_size=batch)
                TicketEvent.objects.bulk_create(events, batch_size=batch)
                Intervention.objects.bulk_create(interventions, batch_size=batch)
                for year, last in sequences.items():
                    ticket_number_set_last(year=year, last=last)
            done += size
            progress.update(size)
        progress.close()
