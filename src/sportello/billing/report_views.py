"""Billing pages beyond the month close: the reports with their charts and CSVs, the
audit list, and the drafting progress the month page polls. Thin views over
``billing.reports``, ``billing.audit`` and ``billing.drafting``; billing users only."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from sportello.customers.models import Organisation

from . import audit, exports, reports
from . import statements as st
from .charts import bar_chart
from .drafting import drafting_running, drafting_status
from .errors import BillingError
from .templatetags.billing import euro, percent
from .views import _BadMonth, _download, _period, billing_view

MAX_MONTHS = 36
AUDIT_PAGE = 50


def _month(value: str | None, default: date) -> date:
    return st.month_parse(value) if value else default


def report_filter(params) -> tuple[reports.ReportFilter, list[str]]:
    """The period (``from``/``to``, YYYY-MM) and organisation of the request; the last
    twelve months by default. Bad values fall back to the default with an error each."""
    errors = []
    this_month = timezone.localdate().replace(day=1)
    end_default = this_month
    start_default = date(this_month.year - 1, this_month.month, 1)
    start_default = st.month_next(start_default)
    try:
        start = _month(params.get("from"), start_default)
    except BillingError as exc:
        errors.append(str(exc))
        start = start_default
    try:
        end = _month(params.get("to"), end_default)
    except BillingError as exc:
        errors.append(str(exc))
        end = end_default
    if start > end:
        errors.append(_("The period starts after it ends: the two months were swapped."))
        start, end = end, start
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if months > MAX_MONTHS:
        errors.append(
            _("A report covers at most %(n)d months: it starts %(n)d months before its end.")
            % {"n": MAX_MONTHS}
        )
        year, month = divmod(end.year * 12 + end.month - 1 - (MAX_MONTHS - 1), 12)
        start = date(year, month + 1, 1)
    org_id = None
    raw = params.get("organisation") or ""
    if raw:
        if raw.isdigit() and Organisation.objects.filter(pk=int(raw)).exists():
            org_id = int(raw)
        else:
            errors.append(_("There is no such organisation: showing every organisation."))
    return reports.ReportFilter(start=start, end=end, organisation_id=org_id), errors


def _format(value, kind: str) -> str:
    if kind == "euro":
        return euro(value)
    if kind == "percent":
        return percent(value)
    return str(value)


def _table(report: reports.Report) -> dict:
    kinds = [c.kind for c in report.columns]
    rows = [
        [(_format(v, k), k != "text") for v, k in zip(row, kinds, strict=True)]
        for row in report.rows
    ]
    totals = (
        [
            (_format(v, k) if v != "" else "", k != "text")
            for v, k in zip(report.totals, kinds, strict=True)
        ]
        if report.totals and report.rows
        else None
    )
    kind = report.chart_kind
    chart = bar_chart(
        report.chart_values(),
        title=f"{report.title}: {report.columns[report.chart_column].label}",
        fmt=lambda v: _format(v, kind),
        empty=_("Nothing in this period."),
    )
    return {"report": report, "rows": rows, "totals": totals, "chart": chart}


@billing_view
def reports_page(request):
    """Every report of the period, each a chart with its table and CSV links."""
    flt, errors = report_filter(request.GET)
    query = {
        "from": f"{flt.start:%Y-%m}",
        "to": f"{flt.end:%Y-%m}",
        "organisation": flt.organisation_id or "",
    }
    return render(
        request,
        "billing/reports.html",
        {
            "billing_page": "reports",
            "filter": flt,
            "errors": errors,
            "query": urlencode(query),
            "organisations": Organisation.objects.order_by("name").only("pk", "name"),
            "tables": [_table(r) for r in reports.all_reports(flt)],
        },
    )


@billing_view
def report_csv(request, slug: str):
    """One report as CSV (``?excel=1``: ``;`` and decimal commas, with a BOM)."""
    build = reports.REPORTS.get(slug)
    if build is None:
        raise Http404
    flt, _errors = report_filter(request.GET)
    header, rows = reports.report_rows_for_csv(build(flt))
    excel = request.GET.get("excel") == "1"
    text = exports.table_csv(header, rows, excel=excel)
    suffix = f"{flt.start:%Y-%m}_{flt.end:%Y-%m}"
    if flt.organisation_id:
        suffix += f"_org{flt.organisation_id}"
    return _download(
        exports.csv_bytes(text, excel=excel),
        f"report-{slug.replace('_', '-')}-{suffix}.csv",
        "text/csv; charset=utf-8",
    )


def _audit_filter(params) -> tuple[audit.AuditFilter, list[str]]:
    errors = []
    category = params.get("category") or None
    if category and category not in audit.CATEGORIES:
        errors.append(_("Unknown kind of change: showing every kind."))
        category = None
    days = {}
    for name in ("since", "until"):
        raw = params.get(name) or ""
        if not raw:
            days[name] = None
            continue
        try:
            days[name] = date.fromisoformat(raw)
        except ValueError:
            errors.append(
                _("%(value)s is not a date: write it as YYYY-MM-DD, e.g. 2026-11-30.")
                % {"value": raw}
            )
            days[name] = None
    return (
        audit.AuditFilter(
            category=category,
            who=(params.get("who") or "").strip()[:100],
            since=days["since"],
            until=days["until"],
            ticket=(params.get("ticket") or "").strip()[:20],
        ),
        errors,
    )


@billing_view
def audit_page(request):
    """Every change to money in one list: who, when, what, before, after; paged."""
    flt, errors = _audit_filter(request.GET)
    paginator = Paginator(audit.entries(flt), AUDIT_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "billing/audit.html",
        {
            "billing_page": "audit",
            "filter": flt,
            "errors": errors,
            "categories": audit.category_labels(),
            "page": page,
            "entries": audit.resolve(page.object_list),
            "query": query.urlencode(),
        },
    )


@billing_view
def drafting_progress(request):
    """The month's drafting run as a small fragment; it asks to be polled again while
    the run goes on (htmx), and stops once it is done."""
    try:
        period = _period(request)
    except _BadMonth as exc:
        raise Http404(str(exc))
    status = drafting_status(period)
    response = render(
        request,
        "billing/drafting.html",
        {"period": period, "drafting": status, "polling": drafting_running(status)},
    )
    if request.headers.get("HX-Request") and status is not None and status.finished:
        # The page was polling and the run is over: reload it, so the new drafts show
        # in the table and the button is enabled again.
        response["HX-Refresh"] = "true"
    return response
