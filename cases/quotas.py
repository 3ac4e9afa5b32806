"""Per-client quotas for the public caller pages (design rule 9), counted in the shared cache.

A client is its IPv4 address, or its IPv6 /64 with wider tiers (core.clientip.quota_keys; docs/caller.md
says why, and what carrier NAT costs).
"""

from django.core.cache import cache

from core.clientip import client_ip, quota_keys


def count(key, seconds):
    cache.add(key, 0, seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, seconds)
        return 1


def exceeded(request, name, limit, seconds):
    """Count one use of `name` by this request's client; True once one of its tiers is over its limit (`limit`
    times the tier's share) in the window. Tiers count from the narrowest: a use refused there is not counted
    against the wider ones, so one noisy /64 does not use up its neighbours' share of the /48."""
    for network, share in quota_keys(client_ip(request)):
        if count(f"quota:{name}:{network}", seconds) > limit * share:
            return True
    return False
