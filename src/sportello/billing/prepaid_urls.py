"""Prepaid hours pages (included by ``billing/urls.py``, in the billing namespace)."""

from django.urls import path

from . import prepaid_views

urlpatterns = [
    path("", prepaid_views.prepaid_list, name="prepaid"),
    path("<int:pk>/", prepaid_views.prepaid_organisation, name="prepaid-org"),
]
