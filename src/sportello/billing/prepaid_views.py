"""Prepaid hours in the desk, for billing users: the organisations' bundles, buying and
correcting them, the threshold, the movements. Thin views over ``billing.prepaid``;
mounted at ``/desk/billing/prepaid/`` (``prepaid_urls.py``)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import localize
from django.utils.translation import gettext as _

from sportello.customers.models import Organisation
from sportello.tickets.services import Actor

from . import prepaid
from .errors import BillingError
from .models import BillingAudit, PrepaidBundle
from .views import billing_view


@billing_view
def prepaid_list(request):
    """Every organisation with bundles and its usable balance; open another one."""
    chosen = request.GET.get("organisation")
    if chosen and chosen.isdigit():
        return redirect("billing:prepaid-org", pk=int(chosen))
    rows = [prepaid.summary(org) for org in prepaid.organisations_with_bundles()]
    return render(
        request,
        "billing/prepaid_list.html",
        {
            "rows": rows,
            "organisations": Organisation.objects.filter(active=True).order_by("name"),
        },
    )


def _audit_text(data: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in data.items() if k not in ("organisation", "bundle"))


def _actions() -> dict[str, str]:
    return {
        "prepaid_bought": _("bundle bought"),
        "prepaid_corrected": _("bundle corrected"),
        "prepaid_threshold": _("threshold changed"),
        "prepaid_low_balance": _("low balance warned"),
        "prepaid_drawn": _("prepaid hours drawn"),
        "prepaid_returned": _("prepaid hours given back"),
    }


@billing_view
def prepaid_organisation(request, pk: int):
    """One organisation's bundles, balance, movements and changes; buy and correct."""
    org = get_object_or_404(Organisation, pk=pk)
    actor = Actor(user=request.user)
    if request.method == "POST":
        post = request.POST
        action = post.get("action", "")
        try:
            if action == "buy":
                bundle = prepaid.bundle_buy(
                    organisation=org,
                    bought_in=post.get("bought_in", "hours"),
                    hours=post.get("hours"),
                    amount=post.get("amount"),
                    rate=post.get("rate"),
                    purchased_on=post.get("purchased_on"),
                    expires_on=post.get("expires_on"),
                    reference=post.get("reference", ""),
                    notes=post.get("notes", ""),
                    actor=actor,
                )
                messages.success(
                    request,
                    _("Bundle of %(hours)s h (%(amount)s EUR) recorded.")
                    % {"hours": localize(bundle.hours), "amount": localize(bundle.amount)},
                )
            elif action == "correct":
                bundle = get_object_or_404(PrepaidBundle, pk=post.get("bundle"), organisation=org)
                prepaid.bundle_correct(
                    bundle=bundle,
                    hours=post.get("hours"),
                    amount=post.get("amount"),
                    purchased_on=post.get("purchased_on"),
                    expires_on=post.get("expires_on", ""),
                    reference=post.get("reference", ""),
                    notes=post.get("notes", ""),
                    reason=post.get("reason", ""),
                    actor=actor,
                )
                messages.success(request, _("Bundle corrected."))
            elif action == "threshold":
                prepaid.threshold_set(
                    organisation=org, hours=post.get("threshold_hours"), actor=actor
                )
                messages.success(request, _("Threshold saved."))
            else:
                messages.error(request, _("Unknown action."))
        except BillingError as exc:
            messages.error(request, str(exc))
        return redirect("billing:prepaid-org", pk=org.pk)
    names = _actions()
    audit = [
        {
            "when": entry.created_at,
            "who": entry.actor_label,
            "what": names.get(entry.action, entry.action),
            "before": _audit_text(entry.before),
            "after": _audit_text(entry.after),
        }
        for entry in BillingAudit.objects.filter(action__startswith="prepaid_")
        .filter(
            Q(after__organisation=org.pk)
            | Q(before__organisation=org.pk)
            | Q(statement__organisation=org)
        )
        .order_by("-created_at", "-pk")[:200]
    ]
    return render(
        request,
        "billing/prepaid_organisation.html",
        {
            "organisation": org,
            "summary": prepaid.summary(org),
            "movements": list(prepaid.movements(org)[:500]),
            "audit": audit,
            "today": timezone.localdate(),
        },
    )
