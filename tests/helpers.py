"""Helpers more than one test module uses. Test modules import from here (or tests/calls.py, tests/conftest.py),
never from one another."""

import json
import os
import re
import socket
import subprocess
import sys

from django.test import Client
from django.urls import reverse

from partners import onboarding
from partners.models import Partner
from tests.conftest import PASSWORD, totp_now, wait_for

ACTOR = {"actor_label": "test"}


def live_partner(slug="tiktak", **fields):
    """A live partner at once: its checklist ticked, and live by the override the partner_key command uses, with
    no contact, key or sandbox test (tests that need those make them)."""
    partner = onboarding.create_partner(name=slug.title(), slug=slug, **ACTOR, **fields)
    for move in ("start_vetting", "sign_agreement", "start_integration"):
        onboarding.move_partner(partner, move, **ACTOR)
    onboarding.set_checklist(partner, **ACTOR, **{field: True for field, _label in Partner.CHECKLIST})
    return onboarding.move_partner(partner, "go_live", override=True, **ACTOR)


def fetch_all(key, secret, limit=3):
    """Every record of the native feed, page by page, and the cursor it ended at."""
    records, cursor = [], ""
    while True:
        response = Client().get(reverse("api:hashes"), {"cursor": cursor, "limit": limit},
                                HTTP_AUTHORIZATION=f"Bearer {key.public_id}.{secret}")
        assert response.status_code == 200, response.content
        body = response.json()
        records += body["records"]
        cursor = body["cursor"]
        if not body["has_more"]:
            return records, cursor


def wait_for_the_stopncii_horizon():
    """Wait until a StopNCII sync may hand out every change written so far (to the bank, or a partner's own web
    address sent to it): its horizon (the real one, see partners.stopncii.horizon) past the second of the newest
    change. Usually well under a second, and at once when that second has passed already; a fixed sleep always
    paid a whole one."""
    from django.db.models import Max

    from hashing.models import BankChange
    from partners import stopncii
    from partners.models import SharedAddress

    times = [model.objects.aggregate(newest=Max("at"))["newest"] for model in (BankChange, SharedAddress)]
    newest = max((at for at in times if at is not None), default=None)
    if newest is not None:
        assert wait_for(lambda: stopncii.horizon() > newest.timestamp(), interval=0.02), \
            "StopNCII's horizon did not pass the newest change (a transaction left open?)"


def database_second():
    """The database clock's whole second (bank changes are timed by it)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT extract(epoch from clock_timestamp())::float8")
        return int(cursor.fetchone()[0])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def beat_schedule(**env):
    """The names in CELERY_BEAT_SCHEDULE as settings compute them under this environment (a fresh process). The
    settings module is imported as Django reads it, without django.setup(): no app touches the schedule, and
    loading every app cost two thirds of a second a call."""
    code = "import json, ncii_portal.settings as settings; print(json.dumps(sorted(settings.CELERY_BEAT_SCHEDULE)))"
    base = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "AUDIT_PURGE_IN_BEAT")}
    result = subprocess.run([sys.executable, "-c", code],
                            env={**base, "DJANGO_SETTINGS_MODULE": "ncii_portal.settings", **env},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def sign_in_fully(user):
    """A client signed in through the login and MFA pages, as a person does."""
    client = Client()
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": totp_now(user)})
    assert client.get(reverse("dashboard")).status_code == 200
    return client


FILE_BYTES_WINDOW = 32


def carries_file_bytes(payload, contents):
    """True if any 32-byte window of `payload` is also found in `contents`, i.e. the payload carries at least
    32 consecutive bytes of the file."""
    if not payload or len(payload) < FILE_BYTES_WINDOW:
        return False
    return any(payload[i:i + FILE_BYTES_WINDOW] in contents for i in range(len(payload) - FILE_BYTES_WINDOW + 1))


# A caller's phone, where the caller pages are seen: browser context options for Playwright.
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


# The intake's four eligibility questions, by the start of their wording.
ELIGIBILITY_QUESTIONS = ("Is the caller the person", "Was that person 18", "Are the images or videos intimate",
                         "Does the caller have the files")


def answer_yes_to_everything(page):
    """Answer the intake's eligibility questions as a caller a case can be opened for."""
    for question in ELIGIBILITY_QUESTIONS:
        page.get_by_role("group", name=re.compile(question)).get_by_label("Yes").check()


def capture_bodies(context):
    """Every response body a browser context receives, fetched through a route so none is missed."""
    bodies = []

    def keep(route):
        response = route.fetch()
        bodies.append((route.request.url, response.body()))
        route.fulfill(response=response)

    context.route("**/*", keep)
    return bodies


def choose_language(page, name):
    """The caller's language switch, as a caller uses it: open it, pick the language by its own name."""
    page.locator("details.languages summary").click()
    page.locator("details.languages").get_by_role("link", name=name, exact=True).click()
