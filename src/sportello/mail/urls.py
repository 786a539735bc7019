from django.urls import path

from . import views

app_name = "mail"
urlpatterns = [
    path("raw/<int:pk>.eml", views.raw_download, name="raw-download"),
]
