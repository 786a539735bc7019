"""``sportello billing draft|issue|export``: the month close for scripts and cron.

Each prints one line per statement (tab separated) and a summary, and exits:
0 when everything went through, 1 when a statement is blocked or an export is refused
(the reason is printed: fix it and run again), 2 for bad usage (a month that is not
YYYY-MM, an unknown organisation).

  sportello billing draft  --month 2026-11 [--organisation ID]
  sportello billing issue  --month 2026-11 [--organisation ID] [--date YYYY-MM-DD]
  sportello billing export --month 2026-11 --format fatturapa|pdf|csv --out DIR [--excel]
  sportello billing defer  --month 2026-11 TICKET... [--reason TEXT]   (to next month)
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sportello.billing import exports, statements
from sportello.billing.errors import BillingError, FatturaPAInvalidError
from sportello.billing.models import PrepaidStatementUse
from sportello.customers.models import Organisation
from sportello.tickets.models import Ticket
from sportello.tickets.services import Actor


class Command(BaseCommand):
    help = (
        "The month close. `billing draft --month YYYY-MM`, `billing issue --month YYYY-MM`, "
        "`billing export --month YYYY-MM --format fatturapa|pdf|csv --out DIR`."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (
            ("draft", "build or rebuild the month's draft statements"),
            ("issue", "issue the month's drafts (numbered, then immutable)"),
            ("export", "write the month's issued statements as files"),
            ("defer", "move tickets to next month's close"),
        ):
            p = sub.add_parser(name, help=text)
            p.add_argument("--month", required=True, help="YYYY-MM")
            if name == "defer":
                p.add_argument("tickets", nargs="+", help="ticket numbers, e.g. 2026-000003")
                p.add_argument("--reason", default="", help="why (kept in the audit trail)")
                continue
            p.add_argument("--organisation", type=int, help="only this organisation (id)")
            if name == "issue":
                p.add_argument("--date", help="issue date, YYYY-MM-DD (default today)")
            if name == "export":
                p.add_argument("--format", required=True, choices=["fatturapa", "pdf", "csv"])
                p.add_argument("--out", required=True, type=Path, help="folder to write to")
                p.add_argument("--excel", action="store_true", help="CSV with ; and decimal commas")

    def handle(self, *args, **options):
        try:
            period = statements.month_parse(options["month"])
        except BillingError as exc:
            raise CommandError(str(exc), returncode=2)
        org = None
        if options.get("organisation") is not None:
            org = Organisation.objects.filter(pk=options["organisation"]).first()
            if org is None:
                raise CommandError(
                    f"No organisation with id {options['organisation']}: see the admin, "
                    "Clienti -> Organizzazioni.",
                    returncode=2,
                )
        actor = Actor(label="sportello billing")
        action = options["action"]
        if action == "draft":
            return self._draft(period, org, actor)
        if action == "defer":
            return self._defer(period, options["tickets"], options["reason"], actor)
        if action == "issue":
            return self._issue(period, org, actor, options.get("date"))
        return self._export(period, org, options)

    def _fail(self, message: str):
        self.stderr.write(message)
        sys.exit(1)

    def _draft(self, period: date, org, actor) -> None:
        results = statements.statements_draft_month(period=period, organisation=org, actor=actor)
        blocked = 0
        for result in results:
            self.stdout.write(result.line())
            blocked += bool(result.blockers)
        drafted = sum(1 for r in results if r.statement is not None)
        summary = f"{drafted} draft(s) for {period:%Y-%m}, {blocked} blocked."
        if blocked:
            self._fail(summary + " Fix what is listed, then draft again.")
        self.stdout.write(summary)

    def _defer(self, period: date, numbers: list[str], reason: str, actor) -> None:
        found = {t.number: t for t in Ticket.objects.filter(number__in=numbers)}
        unknown = [n for n in numbers if n not in found]
        if unknown:
            raise CommandError(f"Unknown ticket number(s): {', '.join(unknown)}.", returncode=2)
        for number in numbers:
            try:
                deferral = statements.ticket_defer(
                    ticket=found[number], period=period, actor=actor, reason=reason
                )
            except BillingError as exc:
                self._fail(f"{number}\t{exc}")
            self.stdout.write(f"{number}\tmoved to {deferral.until:%Y-%m}")

    def _issue(self, period: date, org, actor, when: str | None) -> None:
        issue_date = None
        if when:
            try:
                issue_date = date.fromisoformat(when)
            except ValueError:
                raise CommandError(f"--date {when}: write it as YYYY-MM-DD.", returncode=2)
        results = statements.statements_issue_month(
            period=period, organisation=org, actor=actor, issue_date=issue_date
        )
        failed = 0
        for statement, error in results:
            org_label = f"{statement.organisation_id}\t{statement.organisation.name}"
            if error is None:
                use = PrepaidStatementUse.objects.filter(statement=statement).first()
                drawn = (
                    f"\tprepaid hours used {use.hours_used} h ({use.used}), "
                    f"left {use.hours_after} h, overdraft {use.overdraft}"
                    if use is not None and (use.used or use.balance_before)
                    else ""
                )
                self.stdout.write(
                    f"{org_label}\tissued {statement.display_number}\tnet {statement.net}\t"
                    f"VAT {statement.vat}\ttotal {statement.total}{drawn}"
                )
            else:
                failed += 1
                self.stdout.write(f"{org_label}\tdraft {statement.pk}\tblocked: {error}")
        summary = (
            f"{len(results) - failed} statement(s) issued for {period:%Y-%m}, {failed} blocked."
        )
        if not results:
            self._fail(f"No drafts for {period:%Y-%m}: run `sportello billing draft` first.")
        if failed:
            self._fail(summary)
        self.stdout.write(summary)

    def _export(self, period: date, org, options) -> None:
        try:
            written = exports.export_month(
                period=period,
                fmt=options["format"],
                out=options["out"],
                organisation=org,
                excel=options["excel"],
                jobs=options.get("jobs"),
            )
        except FatturaPAInvalidError as exc:
            self._fail(f"Refused, nothing written: {exc}")
        for item in written:
            self.stdout.write(item.line())
        count = exports.issued(period, org).count()
        self.stdout.write(
            f"{count} statement(s) of {period:%Y-%m} written as {options['format']} "
            f"to {options['out']}."
        )
