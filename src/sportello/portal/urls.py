"""The portal's URLs, mounted inside i18n_patterns: Italian at /portale/..., English at
/en/portale/.... ``mail.outbound.portal_link`` builds /portale/ticket/<number>/."""

from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    # Public pages.
    path("assistenza/", views.support, name="support"),
    path("assistenza/init/", views.init_notice, name="init_notice"),
    path("assistenza/contatti/", views.contact, name="contact"),
    path("assistenza/contatti/inviato/", views.contact_sent, name="contact_sent"),
    path("cookie/", views.cookies, name="cookies"),
    path("privacy/", views.privacy, name="privacy"),
    # Signed-in customers.
    path("portale/", views.tickets, name="tickets"),
    path("portale/ticket/nuovo/", views.ticket_new, name="ticket_new"),
    path("portale/addebiti/", views.charges, name="charges"),
    path("portale/monte-ore/", views.prepaid_hours, name="prepaid"),
    path("portale/account/", views.account, name="account"),
    path("portale/ticket/<str:number>/", views.ticket_detail, name="ticket"),
    path("portale/ticket/<str:number>/ricevuto/", views.ticket_created, name="ticket_created"),
    path("portale/ticket/<str:number>/rispondi/", views.ticket_reply, name="ticket_reply"),
    path("portale/ticket/<str:number>/chiudi/", views.ticket_close, name="ticket_close"),
    path("portale/ticket/<str:number>/riapri/", views.ticket_reopen, name="ticket_reopen"),
    path("portale/ticket/<str:number>/valuta/", views.ticket_rate, name="ticket_rate"),
    path(
        "portale/ticket/<str:number>/allegati/<int:pk>/",
        views.attachment,
        name="attachment",
    ),
]
