"""Every route except the declared public ones refuses anonymous users and staff without MFA.

The walk covers every pattern in the URL resolver, so a new page is covered the day it is added; a
pattern the walk cannot build a URL for fails the test, so nothing slips through untested.
"""

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RegexPattern, RoutePattern

from core import access

SAMPLES = {"int": "1", "str": "sample", "slug": "sample", "uuid": str(uuid.UUID(int=1)), "path": "sample/x",
           "month": "01"}
# Candidates for a regex group; the first that the group fully matches is used.
REGEX_CANDIDATES = ["1", "sample", "abc123", "x-y", "2024-01-01", str(uuid.UUID(int=1))]


def route_sample(route):
    def repl(match):
        converter = match.group(1) or "str"
        if converter not in SAMPLES:
            raise ValueError(f"no sample for converter {converter!r} in {route!r}")
        return SAMPLES[converter]

    return re.sub(r"<(?:(\w+):)?(\w+)>", repl, route)


def regex_sample(regex):
    body = regex.lstrip("^").rstrip("$").replace("\\Z", "")

    def repl(match):
        inner = match.group(2)
        alternatives = inner.split("|")
        if all(re.fullmatch(r"[\w-]+", alt) for alt in alternatives):
            return alternatives[0]
        for candidate in REGEX_CANDIDATES:
            if re.fullmatch(inner, candidate):
                return candidate
        raise ValueError(f"no sample for group {inner!r} in {regex!r}")

    body = re.sub(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", repl, body)
    if re.search(r"[\\()\[\]*+?|{}]", body):
        raise ValueError(f"cannot build a URL from {regex!r}")
    return body


def sample(pattern):
    if isinstance(pattern, RoutePattern):
        return route_sample(str(pattern))
    if isinstance(pattern, RegexPattern):
        return regex_sample(pattern.regex.pattern)
    raise ValueError(f"unknown pattern type {type(pattern)}")


def walk(patterns, prefix="", namespaces=()):
    for entry in patterns:
        part = sample(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = namespaces + ((entry.namespace,) if entry.namespace else ())
            yield from walk(entry.url_patterns, prefix + part, inner)
        elif isinstance(entry, URLPattern):
            yield "/" + prefix + part, ":".join(namespaces + (entry.name or "",)), entry


def all_routes():
    routes = []
    for url, name, entry in walk(get_resolver().url_patterns):
        match = resolve(url)
        assert match.func == entry.callback or match.url_name == entry.name, f"{url} resolved elsewhere ({name})"
        routes.append((url, name, match))
    return routes


ROUTES = all_routes()
CLOSED = [(url, name) for url, name, match in ROUTES if not access.is_public(match)]
NEEDS_MFA = [(url, name) for url, name, match in ROUTES
             if not access.is_public(match) and name not in access.ENROLMENT_URL_NAMES]


def test_walk_sees_the_portal():
    names = {name for _, name, _ in ROUTES}
    for expected in ("dashboard", "audit_log", "staff_detail", "admin:index", "account_login", "healthz"):
        assert expected in names
    assert len(CLOSED) > 20


def test_public_routes_are_declared_and_exist():
    names = {name for _, name, _ in ROUTES}
    assert names >= access.PUBLIC_URL_NAMES, access.PUBLIC_URL_NAMES - names


def test_regex_sampler_refuses_what_it_cannot_build():
    with pytest.raises(ValueError):
        regex_sample(r"^(?P<x>[a-z]{40})$")


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "name"), CLOSED)
def test_anonymous_is_sent_to_login(client, url, name):
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302, f"{name} {url} answered {response.status_code} to anonymous"
        assert response["Location"].startswith(reverse("account_login")), response["Location"]


@pytest.mark.parametrize(("url", "name"), NEEDS_MFA)
def test_staff_without_mfa_is_sent_to_enrol(login_as, newcomer, url, name):
    client = login_as(newcomer)
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302, f"{name} {url} answered {response.status_code} without MFA"
        assert response["Location"] == reverse("mfa_activate_totp")


def test_our_staff_views_state_their_roles():
    ours = ("staff.", "audit.", "cases.", "hashing.", "partners.", "takedowns.", "ncii_portal.")
    missing = [
        name for _, name, match in ROUTES
        if match.func.__module__.startswith(ours) and not access.is_public(match)
        and not hasattr(match.func, "allowed_roles")
    ]
    assert missing == []
