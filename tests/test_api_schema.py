"""The partner API describes itself: every route of the "api" namespace is in the OpenAPI schema, and the docs
page (served by the portal, no CDN) shows every operation."""

import re

from django.test import Client
from django.urls import get_resolver, reverse

from partners.openapi import SCHEMA

SELF_DESCRIBING = {"api:schema", "api:docs", "api:not_found"}  # not_found: the catch-all 404


def api_routes():
    resolver = get_resolver()
    prefix, api = next((p, r) for p, r in ((str(e.pattern), e) for e in resolver.url_patterns)
                       if getattr(r, "namespace", None) == "api")
    return {f"api:{entry.name}": "/" + prefix + re.sub(r"<\w+:(\w+)>", r"{\1}", str(entry.pattern))
            for entry in api.url_patterns}


def test_every_api_route_is_described(db):
    routes = api_routes()
    described = set(SCHEMA["paths"])
    missing = {name: path for name, path in routes.items() if name not in SELF_DESCRIBING and path not in described}
    assert missing == {}
    assert described <= set(routes.values())  # and nothing described that is not there


def test_schema_and_docs_are_served_without_a_login(db):
    schema = Client().get(reverse("api:schema"))
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
    docs = Client().get(reverse("api:docs"))
    page = docs.content.decode()
    assert docs.status_code == 200 and "cdn" not in page.lower() and "<script" not in page
    for path, methods in SCHEMA["paths"].items():
        for method in methods:
            assert f"{method.upper()} {path}" in page
