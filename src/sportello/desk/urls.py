from django.urls import path

from . import views, views_notify, views_organise

app_name = "desk"
urlpatterns = [
    path("login/", views.DeskLoginView.as_view(), name="login"),
    path("logout/", views.DeskLogoutView.as_view(), name="logout"),
    path("", views.queue, name="queue"),
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
    # Tags, merge, split, related tickets, saved views (views_organise).
    path("ticket/<int:pk>/tags/", views_organise.tags, name="tags"),
    path("ticket/<int:pk>/tags/remove/", views_organise.tag_remove, name="tag-remove"),
    path("ticket/<int:pk>/merge/", views_organise.merge, name="merge"),
    path("ticket/<int:pk>/message/<int:message_pk>/split/", views_organise.split, name="split"),
    path("ticket/<int:pk>/link/", views_organise.link, name="link"),
    path("ticket/<int:pk>/unlink/<int:other_pk>/", views_organise.unlink, name="unlink"),
    path("merge/", views_organise.merge_selected, name="merge-selected"),
    path("views/", views_organise.saved_views, name="views"),
    path("views/<int:pk>/rename/", views_organise.saved_view_rename, name="view-rename"),
    path("views/<int:pk>/delete/", views_organise.saved_view_delete, name="view-delete"),
    # Notifications and the unknown caller's number (views_notify).
    path("notifications/", views_notify.notifications, name="notifications"),
    path("notifications/bell/", views_notify.notifications_badge, name="notifications-bell"),
    path("notifications/read/", views_notify.notifications_read_all, name="notifications-read"),
    path("notifications/settings/", views_notify.notify_settings, name="notify-settings"),
    path("notifications/<int:pk>/open/", views_notify.notification_open, name="notification-open"),
    path("notifications/<int:pk>/read/", views_notify.notification_read, name="notification-read"),
    path("call/contacts/", views_notify.call_contacts, name="call-contacts"),
    path("call/link/", views_notify.call_link, name="call-link"),
]
