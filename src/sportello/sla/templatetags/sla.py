"""``{% sla_badge ticket %}``: a list row's SLA cell, from the clock its query joined."""

from __future__ import annotations

from django import template

from sportello.sla import selectors

register = template.Library()


@register.inclusion_tag("sla/_badge.html")
def sla_badge(ticket):
    return {"badge": selectors.badge(ticket)}
