"""Company-wide configuration: who we are, where customers write, and our calendar."""

from __future__ import annotations

import copy
import time

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

# SupportSettings.load() is read several times per received message and per page: each
# process keeps it this many seconds. A save clears this process's copy at once (apps.py);
# other processes see an edit within the interval.
SUPPORT_CACHE_SECONDS = 5
_support_cache: dict = {"obj": None, "at": 0.0}


def support_cache_clear(**_kwargs) -> None:
    _support_cache.update(obj=None, at=0.0)


# The policy's hours: Monday to Friday 9:00-13:00 and 14:30-19:00 (assistenza.txt).
DEFAULT_WINDOWS = {str(day): [["09:00", "13:00"], ["14:30", "19:00"]] for day in range(5)}


def default_windows() -> dict:
    return {day: [list(w) for w in windows] for day, windows in DEFAULT_WINDOWS.items()}


class SupportSettings(models.Model):
    """The one row of company configuration; defaults are the first customer's policy."""

    company_name = models.CharField(_("company name"), max_length=200, default="INIT S.r.l.")
    support_addresses = models.TextField(
        _("official support addresses"),
        default="assistenza@init-s.it",
        help_text=_(
            "One e-mail address per line. Mail to any other address carries the call-out fee."
        ),
    )
    company_domains = models.TextField(
        _("company e-mail domains"),
        default="init-s.it",
        help_text=_(
            "One per line: mail to other addresses of these domains is an 'other e-mail' request."
        ),
    )
    support_phone = models.CharField(_("support phone"), max_length=32, default="+390744752000")
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Rome")
    support_windows = models.JSONField(
        _("support windows"),
        default=default_windows,
        help_text=_('Weekday (0 = Monday) to a list of ["HH:MM", "HH:MM"] windows.'),
    )
    holiday_province = models.CharField(
        _("holiday province"),
        max_length=8,
        default="TR",
        help_text=_("Province code whose patron saint day is a holiday (TR = Terni)."),
    )
    patron_days = models.CharField(
        _("patron saint days"),
        max_length=100,
        default="02-14",
        blank=True,
        help_text=_("MM-DD, comma separated; Terni's San Valentino is 14 February."),
    )
    reopen_window_days = models.PositiveIntegerField(
        _("reopen window (days)"),
        default=14,
        help_text=_("A reply to a ticket closed longer ago opens a new, linked ticket."),
    )
    ack_limit_per_hour = models.PositiveIntegerField(
        _("acknowledgements per sender per hour"),
        default=3,
        help_text=_("Protects against mail loops and floods."),
    )
    out_of_scope_pattern = models.CharField(
        _("out-of-scope requests (regular expression)"),
        max_length=500,
        default=r"ragioneria\s+generale|\bR\.?G\.?S\b|\bINIT\b.{0,40}\b(stato|MEF|bilancio)",
        blank=True,
        help_text=_(
            "Matched, case-insensitively, against subject and text of new requests: "
            "by default the state's INIT accounting system, which we do not support."
        ),
    )
    out_of_scope_reply = models.TextField(
        _("out-of-scope answer"),
        default=(
            "Gentile cliente,\n\nla ringraziamo per averci scritto. Nonostante il nome, non "
            "possiamo fornire assistenza per il sistema INIT della Ragioneria Generale dello "
            "Stato: la invitiamo a rivolgersi ai canali di supporto della Ragioneria.\n\n"
            "Questa richiesta è stata chiusa senza alcun addebito."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("support settings")
        verbose_name_plural = _("support settings")

    def __str__(self) -> str:
        return str(self.company_name)

    def save(self, *args, **kwargs):
        self.pk = 1  # a singleton: there is one company per installation
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> SupportSettings:
        """The one row of settings (created with the defaults on first use), cached."""
        cached = _support_cache["obj"]
        if cached is not None and time.monotonic() - _support_cache["at"] < SUPPORT_CACHE_SECONDS:
            return copy.deepcopy(cached)  # callers may change theirs (its JSON too) and save
        obj, _created = cls.objects.get_or_create(pk=1)
        _support_cache.update(obj=copy.deepcopy(obj), at=time.monotonic())
        return obj

    @property
    def support_phone_display(self) -> str:
        """The phone as people write it: +390744752000 -> +39 0744 752000."""
        import phonenumbers

        try:
            number = phonenumbers.parse(self.support_phone or "", "IT")
        except phonenumbers.NumberParseException:
            return self.support_phone
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    @property
    def support_address_list(self) -> list[str]:
        return [a.strip().lower() for a in self.support_addresses.split() if a.strip()]

    @property
    def company_domain_list(self) -> list[str]:
        return [d.strip().lower().lstrip("@") for d in self.company_domains.split() if d.strip()]

    def clean(self) -> None:
        errors = {}
        windows = self.support_windows
        if not isinstance(windows, dict):
            errors["support_windows"] = _("Expected an object of weekday to windows.")
        else:
            for day, spans in windows.items():
                if day not in {str(d) for d in range(7)} or not isinstance(spans, list):
                    errors["support_windows"] = _(
                        "Weekday %(day)s: use 0 (Monday) to 6 (Sunday) with a list of windows."
                    ) % {"day": day}
                    break
                for span in spans:
                    if (
                        not isinstance(span, list)
                        or len(span) != 2
                        or not all(_is_hhmm(t) for t in span)
                        or span[0] >= span[1]
                    ):
                        errors["support_windows"] = _(
                            'Weekday %(day)s: window %(span)s must be ["HH:MM", "HH:MM"], '
                            "start before end."
                        ) % {"day": day, "span": span}
        for part in filter(None, (p.strip() for p in self.patron_days.split(","))):
            if len(part) != 5 or part[2] != "-" or not (part[:2] + part[3:]).isdigit():
                errors["patron_days"] = _("%(value)s is not MM-DD, e.g. 02-14.") % {"value": part}
        if errors:
            raise ValidationError(errors)


def _is_hhmm(value) -> bool:
    return (
        isinstance(value, str)
        and len(value) == 5
        and value[2] == ":"
        and value[:2].isdigit()
        and value[3:].isdigit()
        and int(value[:2]) < 24
        and int(value[3:]) < 60
    )


class CalendarDay(models.Model):
    """A day that breaks the weekly pattern: a company closure or an extra opening."""

    class Kind(models.TextChoices):
        CLOSURE = "closure", _("closure")
        OPENING = "opening", _("extra opening day")

    date = models.DateField(
        _("date"),
        unique=True,
        error_messages={"unique": _("This day is in the calendar already: edit that row instead.")},
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"
