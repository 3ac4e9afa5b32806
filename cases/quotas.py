"""Per-client quotas for the public caller pages (design rule 9), counted in the shared cache."""

from django.core.cache import cache

from ncii_portal.clientip import client_ip


def exceeded(request, name, limit, seconds):
    """Count one use of `name` by this request's client; True once it is over `limit` in the window."""
    key = f"quota:{name}:{client_ip(request) or 'unknown'}"
    cache.add(key, 0, seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, seconds)
        count = 1
    return count > limit
