"""The territory's pages, under the desk, and the public calendar feed (by token)."""

from django.urls import path

from . import views

app_name = "territory"
urlpatterns = [
    path("desk/agenda/", views.agenda, name="agenda"),
    path("desk/agenda/feed/", views.feed_token, name="feed-token"),
    path("desk/ticket/<int:pk>/visit/", views.visit_schedule, name="visit-schedule"),
    path("desk/visit/<int:pk>/done/", views.visit_done, name="visit-done"),
    path("desk/visit/<int:pk>/cancel/", views.visit_cancel, name="visit-cancel"),
    # No session, no cookie: a phone's calendar subscribes to this address.
    path("calendar/<str:token>.ics", views.feed, name="feed"),
]
