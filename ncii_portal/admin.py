"""The Django admin, read-only.

Every change to staff, roles, authenticators and email addresses goes through the portal's own actions, which
write the audit log in the same transaction. The admin would bypass them, so it only shows: no model may be
added, changed or deleted here, by anyone (superusers included), and fields holding secrets are never shown.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

# TOTP seeds and recovery codes (Authenticator.data), session keys, confirmation keys, password hashes.
SECRET_FIELDS = ("data", "session_key", "key", "password")


class ReadOnlyAdmin:
    exclude = SECRET_FIELDS

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}  # bulk actions (e.g. allauth's "make verified") change data too


class PortalAdminSite(admin.AdminSite):
    site_header = "Helpline portal administration (read-only)"

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        read_only = type(f"ReadOnly{admin_class.__name__}", (ReadOnlyAdmin, admin_class), {})
        super().register(model_or_iterable, read_only, **options)


class PortalAdminConfig(AdminConfig):
    default_site = "ncii_portal.admin.PortalAdminSite"
