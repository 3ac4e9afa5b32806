from django.urls import path, register_converter

from stats import views


class MonthNumber:
    """A month of the year as two digits (2026-03), as docs/statistics.md writes the report's address; one digit
    is read too."""

    regex = "[0-9]{1,2}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return f"{value:02d}"


register_converter(MonthNumber, "month")

urlpatterns = [
    path("statistics/", views.dashboard, name="stats_dashboard"),
    path("statistics/<slug:table>.csv", views.export, name="stats_export"),
    path("statistics/report/", views.monthly_report_pick, name="stats_monthly_report_pick"),
    path("statistics/report/<int:year>-<month:month>/", views.monthly_report, name="stats_monthly_report"),
    path("statistics/partners/<slug:slug>/<slug:number>/", views.drill_down, name="stats_drill_down"),
]
