"""Admin of the portal: the agent's approval step for new accounts, ratings, consents."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .errors import PortalInputError
from .models import PendingAccount, PrivacyConsent, Registration, TicketRating, match_label


@admin.register(PendingAccount)
class PendingAccountAdmin(admin.ModelAdmin):
    """Portal accounts whose organisation is missing or ambiguous: set the organisation
    (and, if they should see all of its tickets, "contact-manager"), then approve."""

    list_display = ["__str__", "email", "organisation", "typed_company", "typed_tax_id", "match"]
    list_select_related = ["organisation", "user__portal_registration"]
    fields = [
        "first_name",
        "last_name",
        "organisation",
        "is_manager",
        "needs_review",
        "registration",
    ]
    readonly_fields = ["registration"]
    autocomplete_fields = ["organisation"]
    actions = ["approve", "approve_with_new_organisation"]
    search_fields = ["first_name", "last_name", "user__email"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(user__isnull=False, needs_review=True)

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("e-mail"))
    def email(self, obj):
        return obj.user.email

    def _registration(self, obj):
        return getattr(obj.user, "portal_registration", None)

    @admin.display(description=_("company (as typed)"))
    def typed_company(self, obj):
        reg = self._registration(obj)
        return reg.company if reg else ""

    @admin.display(description=_("partita IVA or codice fiscale (as typed)"))
    def typed_tax_id(self, obj):
        reg = self._registration(obj)
        return reg.tax_id if reg else ""

    @admin.display(description=_("organisation found by"))
    def match(self, obj):
        reg = self._registration(obj)
        return match_label(reg.match) if reg else ""

    @admin.display(description=_("registration"))
    def registration(self, obj):
        reg = self._registration(obj)
        if reg is None:
            return "–"
        when = timezone.localtime(reg.created_at).strftime("%d/%m/%Y %H:%M")
        return " · ".join([reg.company, reg.tax_id, reg.phone, match_label(reg.match), when])

    def save_model(self, request, obj, form, change):
        # Unticking "needs review" with an organisation set is the approval.
        approving = change and "needs_review" in form.changed_data and not obj.needs_review
        super().save_model(request, obj, form, change)
        if approving:
            services.account_approved_notify(contact=obj)

    @admin.action(description=_("Approve the selected accounts (they must have an organisation)"))
    def approve(self, request, queryset):
        approved = 0
        for contact in queryset.select_related("organisation"):
            if contact.organisation_id is None:
                self.message_user(
                    request,
                    _("%(contact)s has no organisation: open it and choose one first.")
                    % {"contact": contact},
                    messages.WARNING,
                )
                continue
            services.account_approve(
                contact=contact, organisation=contact.organisation, actor=request.user
            )
            approved += 1
        if approved:
            self.message_user(
                request,
                ngettext("%(n)d account approved.", "%(n)d accounts approved.", approved)
                % {"n": approved},
                messages.SUCCESS,
            )

    @admin.action(
        description=_(
            "Create the organisation from what the customer typed, and approve (one step)"
        )
    )
    def approve_with_new_organisation(self, request, queryset):
        for contact in queryset.select_related("user__portal_registration"):
            try:
                org = services.account_approve_with_new_organisation(
                    contact=contact, actor=request.user
                )
            except PortalInputError as exc:
                self.message_user(request, f"{contact}: {exc}", messages.ERROR)
                continue
            self.message_user(
                request,
                _("%(contact)s approved, with the new organisation %(org)s.")
                % {"contact": contact, "org": org},
                messages.SUCCESS,
            )


@admin.register(TicketRating)
class TicketRatingAdmin(admin.ModelAdmin):
    list_display = ["ticket", "rating", "comment", "created_at"]
    list_filter = ["rating"]
    list_select_related = ["ticket"]
    readonly_fields = ["ticket", "rating", "comment", "author", "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(PrivacyConsent)
class PrivacyConsentAdmin(admin.ModelAdmin):
    list_display = ["user", "policy_version", "accepted_at", "ip"]
    readonly_fields = ["user", "policy_version", "accepted_at", "ip"]
    search_fields = ["user__email"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "tax_id", "phone", "match_shown", "created_at"]
    readonly_fields = ["user", "company", "tax_id", "phone", "match_shown", "created_at"]
    exclude = ["match"]

    @admin.display(description=_("organisation found by"))
    def match_shown(self, obj):
        return match_label(obj.match)

    search_fields = ["user__email", "company", "tax_id"]

    def has_add_permission(self, request):
        return False
