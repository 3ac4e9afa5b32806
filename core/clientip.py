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


def quota_keys(ip):
    """[(network, share of the quota)] a client's uses count against (design rule 9).

    IPv4: the address itself. IPv6: one home or phone holds a whole /64 (2**64 addresses), so the /64 counts as
    one client, and wider prefixes (QUOTA_IPV6_TIERS, e.g. /56 and /48 at several times the quota) catch a
    holder of many /64s. An IPv4-mapped IPv6 address is its IPv4 address.
    """
    if not ip:
        return [("unknown", 1)]
    address = ipaddress.ip_address(ip)
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.version == 4:
        return [(str(address), 1)]
    return [(str(ipaddress.ip_network(f"{address}/{prefix}", strict=False)), share)
            for prefix, share in settings.QUOTA_IPV6_TIERS]
