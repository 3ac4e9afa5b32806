from django.urls import path

from stats import views

urlpatterns = [
    path("statistics/", views.dashboard, name="stats_dashboard"),
    path("statistics/<slug:table>.csv", views.export, name="stats_export"),
]
