"""The client's IP address, read in one place: audit rows, allauth's rate limits and the caller quotas use it.

Behind the reverse proxy, REMOTE_ADDR is the proxy for everyone. TRUSTED_CLIENT_IP_HEADER names the header the
proxy sets to the real client address (docs/operations.md); when it is unset, any such header a client sends is
ignored. A value that is not an IP address is ignored too, so nothing a client writes can break an audit insert.
"""

import ipaddress

from django.conf import settings


def parse_ip(value):
    """The address in `value` in canonical form, or None when it is not one."""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request):
    """The client's address as a string, or None when even REMOTE_ADDR is unusable."""
    header = settings.TRUSTED_CLIENT_IP_HEADER
    if header:
        # In an X-Forwarded-For style list, the last entry is the one our own proxy appended.
        ip = parse_ip(request.headers.get(header, "").rpartition(",")[2])
        if ip:
            return ip
    return parse_ip(request.META.get("REMOTE_ADDR", ""))
