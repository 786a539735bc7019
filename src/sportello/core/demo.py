"""The demo data set: the first customer company's configuration and a realistic desk.

Deterministic (seeded), so screenshots and docs stay comparable between runs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from sportello.customers.models import (
    Contact,
    ContactEmail,
    ContactPhone,
    Organisation,
    OrganisationDomain,
)
from sportello.staff.models import Agent, Role, Skill, Team, Zone
from sportello.staff.services import agent_save
from sportello.tickets import services as ticket_services
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Channel, Direction, MessageKind, Status, Ticket

from . import identifiers
from .models import SupportSettings

ADMIN_LOGIN = ("admin", "sportello-admin")
AGENT_PASSWORD = "sportello-agent"  # noqa: S105 - demo only, printed to the user

ORGANISATIONS = [
    # name, domain, comune, province, rate, in district, km
    ("Studio Commercialista Bianchi", "studiobianchi.it", "Terni", "TR", "60.00", True, None),
    ("Ferramenta Narnese S.n.c.", "ferramentanarnese.it", "Narni", "TR", "55.00", True, None),
    ("Comune di Stroncone", "comune.stroncone.tr.it", "Stroncone", "TR", "50.00", False, "12"),
    ("Officine Meccaniche Umbre S.p.A.", "omu-spa.it", "Spoleto", "PG", "70.00", False, "37"),
    ("Farmacia Centrale Amelia", "farmaciacentraleamelia.it", "Amelia", "TR", "47.50", False, "24"),
]

PEOPLE = [
    ("Giulia", "Bianchi"),
    ("Marco", "Rossi"),
    ("Luca", "Ferri"),
    ("Sara", "Conti"),
    ("Paolo", "Marini"),
    ("Elena", "Galli"),
    ("Davide", "Leone"),
    ("Chiara", "Fabbri"),
    ("Andrea", "Moretti"),
    ("Francesca", "Barbieri"),
    ("Stefano", "Rinaldi"),
    ("Anna", "Pellegrini"),
]

AGENTS = [
    ("bob", "Bob", "Tecnico", "Terni", "Sistemi", Role.SUPERVISOR),
    ("mario", "Mario", "Verdi", "Terni", "Sistemi", Role.AGENT),
    ("lucia", "Lucia", "Neri", "Narni-Amelia", "Reti", Role.AGENT),
    ("carla", "Carla", "Gialli", "Narni-Amelia", "Reti", Role.BILLING),
]

PROBLEMS = [
    (
        "La stampante dell'ufficio non stampa",
        "Da stamattina la stampante di rete non stampa: "
        "i documenti restano in coda. Abbiamo già provato a spegnerla e riaccenderla.",
    ),
    (
        "Posta elettronica: non ricevo più mail",
        "Da ieri Outlook non scarica più la posta e chiede continuamente la password.",
    ),
    ("PC lentissimo all'avvio", "Il PC della reception impiega 10 minuti ad avviarsi."),
    ("VPN non si connette", "Dal portatile di casa la VPN dà errore 809."),
    ("Backup NAS fallito", "Il NAS ha inviato una mail di errore sul backup notturno."),
    ("Nuovo utente da configurare", "Lunedì entra una nuova collega: serve account e PC."),
    ("Server acceso ma non raggiungibile", "Il gestionale non si apre, il server sembra acceso."),
    (
        "La stampante si inceppa a ogni stampa",
        "Da lunedì la stampante dell'ufficio si inceppa a ogni lavoro di stampa.",
    ),
    (
        "Il gestionale di fatturazione non si apre",
        "Il programma di fatturazione dice che la licenza è scaduta.",
    ),
    ("Monitor sfarfalla", "Il monitor della postazione 3 sfarfalla e si spegne."),
]

# The category of each problem above, matched against the agents' skills by the
# suggested assignee (territory.ranking).
CATEGORIES = [
    "Stampanti",
    "Windows",
    "Windows",
    "Reti",
    "Linux",
    "Windows",
    "Reti",
    "Stampanti",
    "Windows",
    "",
]

REPLIES = [
    "Buongiorno, abbiamo verificato il problema e lo abbiamo risolto. Ci faccia sapere.",
    "Grazie della segnalazione: ci colleghiamo in remoto tra 10 minuti.",
    "Può inviarci una foto del messaggio di errore?",
    "Passiamo a ritirare il PC domattina per la riparazione in laboratorio.",
]


@dataclass
class DemoSummary:
    organisations: int
    contacts: int
    agents: int
    tickets: int


def database_is_empty() -> bool:
    return not (Organisation.objects.exists() or Ticket.objects.exists())


def partita_iva_with_check(first_ten: str) -> str:
    """Append the official check digit, so demo VAT numbers pass validation."""
    return first_ten + identifiers.partita_iva_check_digit(first_ten)


@transaction.atomic
def load_demo(*, seed: int = 2026) -> DemoSummary:
    rng = random.Random(seed)
    SupportSettings.load()  # the policy's defaults: address, phone, hours, Terni
    User = get_user_model()
    admin = User.objects.create_superuser(
        ADMIN_LOGIN[0], "admin@init-s.it", ADMIN_LOGIN[1], first_name="Amministratore"
    )
    zones = {
        name: Zone.objects.create(name=name, comuni=comuni)
        for name, comuni in (
            ("Terni", ["Terni", "Stroncone", "Spoleto"]),
            ("Narni-Amelia", ["Narni", "Amelia"]),
        )
    }
    teams = {name: Team.objects.create(name=name) for name in ("Sistemi", "Reti")}
    skills = [Skill.objects.create(name=n) for n in ("Windows", "Linux", "Reti", "Stampanti")]
    agents = []
    for username, first, last, zone, team, role in AGENTS:
        user = User.objects.create_user(
            username,
            f"{username}@init-s.it",
            AGENT_PASSWORD,
            first_name=first,
            last_name=last,
        )
        # Each works in the desk as their role allows (staff.roles); the admin site is
        # for the admin role only.
        agent = agent_save(
            agent=Agent(user=user, role=role, team=teams[team], home_zone=zones[zone])
        )
        agent.skills.set(rng.sample(skills, 2))
        agents.append(agent)

    organisations = []
    for i, (name, domain, comune, prov, rate, in_district, km) in enumerate(ORGANISATIONS):
        org = Organisation(
            name=name,
            vat_number=partita_iva_with_check(f"0{i + 1}23456789"[:10]),
            sdi_code="M5UXCR1",
            comune=comune,
            province=prov,
            address=f"Via Roma {i + 1}",
            postcode="05100",
            hourly_rate=Decimal(rate),
            in_district=in_district,
            distance_km=Decimal(km) if km else None,
        )
        org.full_clean()
        org.save()
        OrganisationDomain.objects.create(organisation=org, domain=domain)
        organisations.append(org)

    contacts = []
    for i, (first, last) in enumerate(PEOPLE):
        org = organisations[i % len(organisations)]
        contact = Contact.objects.create(
            organisation=org, first_name=first, last_name=last, is_manager=i < len(organisations)
        )
        domain = org.domains.first().domain
        ContactEmail.objects.create(
            contact=contact, address=f"{first}.{last}@{domain}".lower(), primary=True
        )
        ContactPhone.objects.create(contact=contact, number=f"+39074442{i:04d}", label="ufficio")
        contacts.append(contact)

    channels = (
        [Channel.EMAIL] * 5
        + [Channel.PORTAL] * 3
        + [
            Channel.PHONE,
            Channel.SMS,
            Channel.WHATSAPP,
            Channel.OTHER_EMAIL,
            Channel.OTHER,
        ]
    )
    statuses = [Status.NEW, Status.OPEN, Status.WAITING, Status.RESOLVED, Status.CLOSED]
    now = timezone.now()
    for n in range(60):
        contact = contacts[n % len(contacts)]
        channel = channels[n % len(channels)] if n >= 13 else channels[n]
        subject, text = PROBLEMS[n % len(PROBLEMS)]
        created = now - timedelta(
            days=rng.randint(0, 59), hours=rng.randint(0, 8), minutes=rng.randint(0, 59)
        )
        created = _business_time(created)
        actor = ticket_services.Actor(label=str(contact))
        ticket = ticket_services.ticket_open(
            subject=subject,
            channel=channel,
            contact=contact,
            actor=actor,
            created_at=created,
            official_channels_possible=(n % 2 == 0) if channel == Channel.PHONE else None,
            message=MessageInput(text=text, sender=contact.emails.first().address),
            category=CATEGORIES[n % len(PROBLEMS)],
        )
        agent = agents[n % 3]
        target = statuses[n % len(statuses)]
        if target == Status.NEW:
            continue
        staff = ticket_services.Actor(user=agent.user)
        ticket_services.ticket_assign(ticket=ticket, assignee=agent, actor=staff)
        ticket_services.ticket_change_status(
            ticket=ticket,
            notify=False,
            status=Status.OPEN,
            actor=staff,
            when=created + timedelta(minutes=20),
        )
        ticket_services.message_add(
            ticket=ticket,
            notify=False,
            actor=staff,
            message=MessageInput(
                kind=MessageKind.EMAIL,
                direction=Direction.OUTBOUND,
                text=REPLIES[n % len(REPLIES)],
                subject=f"Re: {subject}",
                created_at=created + timedelta(minutes=30),
            ),
        )
        mode = n % 4
        if mode == 1:
            ticket_services.intervention_add(
                ticket=ticket,
                kind="phone",
                started_at=created + timedelta(minutes=40),
                duration_seconds=rng.choice([180, 320, 700, 1200]),
                technician=agent,
                actor=staff,
            )
        elif mode == 2:
            ticket_services.intervention_add(
                ticket=ticket,
                kind="remote",
                started_at=created + timedelta(minutes=45),
                duration_seconds=rng.choice([600, 1800, 4200]),
                technician=agent,
                actor=staff,
            )
        elif mode == 3:
            ticket_services.intervention_add(
                ticket=ticket,
                kind="pickup",
                started_at=created + timedelta(days=1),
                technician=agent,
                actor=staff,
            )
        if target == Status.WAITING:
            ticket_services.ticket_change_status(
                ticket=ticket,
                notify=False,
                status=Status.WAITING,
                actor=staff,
                when=created + timedelta(hours=1),
            )
        elif target in (Status.RESOLVED, Status.CLOSED):
            ticket_services.message_add(
                ticket=ticket,
                notify=False,
                actor=actor,
                author_contact=contact,
                message=MessageInput(
                    kind=MessageKind.EMAIL,
                    direction=Direction.INBOUND,
                    text="Grazie, ora funziona tutto.",
                    created_at=created + timedelta(hours=2),
                ),
            )
            ticket_services.ticket_change_status(
                ticket=ticket,
                notify=False,
                status=Status.RESOLVED,
                actor=staff,
                when=created + timedelta(hours=3),
            )
            if target == Status.CLOSED:
                ticket_services.ticket_change_status(
                    ticket=ticket,
                    notify=False,
                    status=Status.CLOSED,
                    actor=staff,
                    when=created + timedelta(days=2),
                )
    del admin
    return DemoSummary(
        organisations=len(organisations),
        contacts=len(contacts),
        agents=len(agents),
        tickets=Ticket.objects.count(),
    )


def _business_time(moment):
    """Move a random instant onto a weekday morning, where most requests arrive."""
    local = timezone.localtime(moment)
    while local.weekday() >= 5:
        local -= timedelta(days=1)
    return local.replace(hour=9 + local.hour % 4, second=0, microsecond=0)
