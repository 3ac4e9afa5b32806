from django.urls import path

from hashing import views

urlpatterns = [path("hashing/check/", views.hasher_check, name="hasher_check")]
