from django.urls import path

from . import views

app_name = "tickets"
urlpatterns = [
    path("attachment/<int:pk>/", views.staff_attachment, name="staff-attachment"),
]
