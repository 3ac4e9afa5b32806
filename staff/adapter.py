from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import PermissionDenied

from core.clientip import client_ip


class StaffAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Staff are invited by an administrator (staff.actions.invite_staff); there is no public sign-up.
        return False

    def get_client_ip(self, request):
        # allauth's rate limits and session records: the same address the audit log records.
        ip = client_ip(request)
        if ip is None:
            raise PermissionDenied("Unable to determine the client's IP address.")
        return ip
