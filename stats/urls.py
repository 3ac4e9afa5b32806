from django.urls import path

from stats import views

urlpatterns = [
    path("statistics/", views.dashboard, name="stats_dashboard"),
    path("statistics/<slug:table>.csv", views.export, name="stats_export"),
    path("statistics/report/<int:year>-<int:month>/", views.monthly_report, name="stats_monthly_report"),
    path("statistics/partners/<slug:slug>/<slug:number>/", views.drill_down, name="stats_drill_down"),
]
