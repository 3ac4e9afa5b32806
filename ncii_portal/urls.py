from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from ncii_portal import dashboard, views

# The Django admin signs in through allauth, so MFA applies there too.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("", dashboard.dashboard, name="dashboard"),
    path("accounts/", include("allauth.urls")),
    path("api/", include("partners.api_urls")),
    path("admin/", admin.site.urls),
    path("", include("cases.caller_urls")),
    path("", include("cases.urls")),
    path("", include("partners.urls")),
    path("", include("takedowns.urls")),
    path("", include("stats.urls")),
    path("", include("hashing.urls")),
    path("", include("staff.urls")),
]
