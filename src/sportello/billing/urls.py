from django.urls import path

from . import report_views, views

app_name = "billing"
urlpatterns = [
    path("", views.month_close, name="month"),
    path("statement/<int:pk>/", views.statement_detail, name="statement"),
    path("statement/<int:pk>/pdf/", views.statement_pdf, name="statement-pdf"),
    path("statement/<int:pk>/xml/", views.statement_xml, name="statement-xml"),
    path("month/fatturapa.zip", views.month_download, {"fmt": "zip"}, name="month-zip"),
    path("month/addebiti.csv", views.month_download, {"fmt": "csv"}, name="month-csv"),
    path("month/drafting/", report_views.drafting_progress, name="drafting"),
    path("reports/", report_views.reports_page, name="reports"),
    path("reports/<slug:slug>.csv", report_views.report_csv, name="report-csv"),
    path("audit/", report_views.audit_page, name="audit"),
]
