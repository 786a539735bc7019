"""Portal forms: they parse and check input; the services decide (STYLE 1.3)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from sportello.core import identifiers
from sportello.errors import SportelloError
from sportello.tickets import services as tickets
from sportello.tickets.models import Priority

from . import services
from .errors import PortalInputError
from .selectors import STATUS_FILTERS

# Offered on the new-ticket form; the value is stored in Ticket.category.
CATEGORIES = [
    ("hardware", _("Computers and hardware")),
    ("software", _("Software and applications")),
    ("rete", _("Network and Internet")),
    ("posta", _("E-mail")),
    ("stampanti", _("Printers and scanners")),
    ("backup", _("Backup and data")),
    ("account", _("Accounts and passwords")),
    ("altro", _("Other")),
]

STATUS_CHOICES = [
    ("", _("All")),
    ("active", _("In progress")),
    ("waiting", _("Waiting for you")),
    ("resolved", pgettext_lazy("tickets", "Resolved")),
    ("closed", pgettext_lazy("tickets", "Closed")),
]
assert {c for c, _label in STATUS_CHOICES if c} == set(STATUS_FILTERS)

PER_PAGE_CHOICES = (25, 50, 100)


class HoneypotMixin(forms.Form):
    """A field people never see (hidden by CSS, skipped by keyboard and screen readers)
    and naive bots fill in: no third-party CAPTCHA needed."""

    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def honeypot_filled(self) -> bool:
        return bool((self.data.get("website") or "").strip())


class SignupExtraForm(HoneypotMixin, forms.Form):
    """The fields allauth's signup form gets besides e-mail and password
    (ACCOUNT_SIGNUP_FORM_CLASS); ``signup`` runs once the user is saved."""

    first_name = forms.CharField(
        label=_("Name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Surname"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    company = forms.CharField(
        label=_("Company"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    tax_id = forms.CharField(
        label=_("Partita IVA or codice fiscale"),
        max_length=20,
        help_text=_(
            "The company's partita IVA, or your codice fiscale if you are a private person."
        ),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    privacy = forms.BooleanField(
        label=_("I have read the privacy notice and agree to the processing of my data."),
        required=True,
    )

    def clean_tax_id(self) -> str:
        try:
            return services.tax_id_normalize(self.cleaned_data["tax_id"])
        except PortalInputError as exc:
            raise forms.ValidationError(exc.message)

    def clean_phone(self) -> str:
        try:
            return identifiers.normalize_phone(self.cleaned_data["phone"])
        except identifiers.IdentifierError:
            raise forms.ValidationError(
                _("Enter a phone number we can call, e.g. 0744 123456 or +39 333 1234567.")
            )

    def clean(self):
        cleaned = super().clean()
        if self.honeypot_filled():
            raise forms.ValidationError(_("The form could not be sent. Please try again."))
        return cleaned

    def signup(self, request, user) -> None:
        from allauth.account.adapter import get_adapter

        services.account_register(
            user=user,
            first_name=self.cleaned_data["first_name"],
            last_name=self.cleaned_data["last_name"],
            company=self.cleaned_data["company"],
            tax_id=self.cleaned_data["tax_id"],
            phone=self.cleaned_data["phone"],
            language=getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE),
            ip=get_adapter().get_client_ip(request),
        )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django docs, "Uploading multiple files")."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _attachments_help() -> str:
    types = ", ".join(t.lstrip(".") for t in settings.SPORTELLO_UPLOAD_TYPES)
    return _("Up to %(count)s files, %(size)s MB each: %(types)s.") % {
        "count": settings.SPORTELLO_UPLOAD_MAX_FILES,
        "size": settings.SPORTELLO_UPLOAD_MAX_BYTES // (1024 * 1024),
        "types": types,
    }


class AttachmentsMixin(forms.Form):
    attachments = MultipleFileField(label=_("Attachments"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["attachments"]
        field.help_text = _attachments_help()
        field.widget.attrs["accept"] = ",".join(settings.SPORTELLO_UPLOAD_TYPES)

    def clean_attachments(self) -> list[services.Upload]:
        files = self.cleaned_data.get("attachments") or []
        uploads = []
        for f in files:
            try:
                services.upload_check(name=f.name, size=f.size)
            except PortalInputError as exc:
                raise forms.ValidationError(exc.message)
            uploads.append(services.Upload(name=f.name, content=f.read()))
        try:
            services.uploads_check(uploads)
        except PortalInputError as exc:
            raise forms.ValidationError(exc.message)
        return uploads


def _typed(text: str) -> str:
    try:
        tickets.typed_text_check(text=text)
    except SportelloError as exc:
        raise forms.ValidationError(exc.message)
    return text


class TicketForm(AttachmentsMixin, forms.Form):
    subject = forms.CharField(
        label=_("Subject"),
        max_length=200,
        help_text=_("One line saying what is wrong, e.g. “The office printer does not print”."),
    )
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "As many details as you can: what you were doing, error messages, which computer."
        ),
    )
    category = forms.ChoiceField(label=_("Category"), choices=CATEGORIES, initial="altro")
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    field_order = ["subject", "description", "category", "priority", "attachments"]

    def clean_description(self) -> str:
        return _typed(self.cleaned_data["description"])


class ReplyForm(AttachmentsMixin, forms.Form):
    text = forms.CharField(
        label=_("Your reply"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )

    def clean_text(self) -> str:
        return _typed(self.cleaned_data["text"])

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("text") or "").strip() and not cleaned.get("attachments"):
            raise forms.ValidationError(_("Write a message or attach a file."))
        return cleaned


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you with how we handled this request?"),
        choices=[
            (5, _("5 – very satisfied")),
            (4, _("4 – satisfied")),
            (3, _("3 – neither satisfied nor dissatisfied")),
            (2, _("2 – dissatisfied")),
            (1, _("1 – very dissatisfied")),
        ],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class TicketFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Number or words")}),
    )


class ContactRequestForm(HoneypotMixin, forms.Form):
    """The public "Hai domande? Lascia un messaggio" form."""

    name = forms.CharField(
        label=_("Name and surname"),
        max_length=160,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    company = forms.CharField(
        label=_("Company (optional)"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    message = forms.CharField(
        label=_("Your message"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Tell us what you need; we will contact you as soon as possible."),
    )
    privacy = forms.BooleanField(
        label=_("I have read the privacy notice and agree to the processing of my data."),
        required=True,
    )
    field_order = ["name", "email", "company", "phone", "message", "privacy", "website"]

    def clean_phone(self) -> str:
        value = self.cleaned_data.get("phone", "").strip()
        if not value:
            return ""
        try:
            return identifiers.normalize_phone(value)
        except identifiers.IdentifierError:
            raise forms.ValidationError(
                _("Enter a phone number we can call, e.g. 0744 123456 or +39 333 1234567.")
            )
