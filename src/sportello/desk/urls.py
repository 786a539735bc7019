from django.urls import path

from . import views, views_dashboard

app_name = "desk"
urlpatterns = [
    path("login/", views.DeskLoginView.as_view(), name="login"),
    path("logout/", views.DeskLogoutView.as_view(), name="logout"),
    path("", views.queue, name="queue"),
    path("dashboard/", views_dashboard.dashboard, name="dashboard"),
    path("bulk/", views.bulk, name="bulk"),
    path("call/", views.call, name="call"),
    path("call/lookup/", views.call_lookup, name="call-lookup"),
    path("call/start/", views.call_start, name="call-start"),
    path("ticket/<int:pk>/", views.ticket, name="ticket"),
    path("ticket/<int:pk>/preview/", views.preview, name="preview"),
    path("ticket/<int:pk>/presence/", views.presence, name="presence"),
    path("ticket/<int:pk>/reply/", views.reply, name="reply"),
    path("ticket/<int:pk>/note/", views.note, name="note"),
    path("ticket/<int:pk>/fields/", views.fields, name="fields"),
    path("ticket/<int:pk>/assign/", views.assign, name="assign"),
    path("ticket/<int:pk>/attach/", views.attach, name="attach"),
    path("ticket/<int:pk>/timer/", views.timer_start, name="timer-start"),
    path("ticket/<int:pk>/timer/<int:timer_pk>/stop/", views.timer_stop, name="timer-stop"),
    path(
        "ticket/<int:pk>/timer/<int:timer_pk>/discard/",
        views.timer_discard,
        name="timer-discard",
    ),
    path("ticket/<int:pk>/intervention/", views.intervention_add, name="intervention-add"),
    path(
        "ticket/<int:pk>/intervention/<int:intervention_pk>/override/",
        views.intervention_override,
        name="intervention-override",
    ),
    path("ticket/<int:pk>/billing/", views.billing, name="billing"),
    path("attachment/<int:pk>/", views.attachment, name="attachment"),
    path("canned/", views.canned_list, name="canned"),
    path("preferences/", views.preferences, name="preferences"),
]
