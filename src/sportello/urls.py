from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from sportello.core import views as core_views
from sportello.portal import views as portal_views

admin.site.site_header = _("Sportello administration")
admin.site.site_title = "Sportello"
admin.site.index_title = _("Help desk and billing")

urlpatterns = [
    path("health", core_views.health, name="health"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("mail/", include("sportello.mail.urls")),
    # The month close, for billing users (before desk/: its own pages under desk/billing/).
    path("desk/billing/", include("sportello.billing.urls")),
    # The technicians' agenda (desk/agenda/, desk/visit/...) and its public feed.
    path("", include("sportello.territory.urls")),
    # Before the desk's own include, so that desk/search/ is the search page.
    path("desk/", include("sportello.search.urls")),
    path("desk/", include("sportello.desk.urls")),
]
urlpatterns += i18n_patterns(
    path("", core_views.home, name="home"),
    path("admin/", admin.site.urls),
    # Customer portal: sign-up, login, password reset, TOTP (django-allauth) and tickets.
    path(
        "account/confirm-email/<str:key>/",
        portal_views.EmailConfirm.as_view(),
        name="account_confirm_email",
    ),
    path("account/", include("allauth.urls")),
    path("", include("sportello.portal.urls")),
    prefix_default_language=False,
)

handler400 = "sportello.core.views.error_400"
handler403 = "sportello.core.views.error_403"
handler404 = "sportello.core.views.error_404"
handler500 = "sportello.core.views.error_500"
handler429 = "sportello.core.views.error_429"  # read by allauth's rate limits
