from django.urls import include, path

from . import prepaid_urls, views

app_name = "billing"
urlpatterns = [
    path("", views.month_close, name="month"),
    path("statement/<int:pk>/", views.statement_detail, name="statement"),
    path("statement/<int:pk>/pdf/", views.statement_pdf, name="statement-pdf"),
    path("statement/<int:pk>/xml/", views.statement_xml, name="statement-xml"),
    path("month/fatturapa.zip", views.month_download, {"fmt": "zip"}, name="month-zip"),
    path("month/addebiti.csv", views.month_download, {"fmt": "csv"}, name="month-csv"),
    path("prepaid/", include(prepaid_urls)),
]
