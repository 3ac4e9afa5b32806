"""Expired sessions are purged daily (docs/privacy.md): a caller's "unlocked case" pointer and a caseworker's grants
to cases opened by reference do not outlive their session. The job runs in a real Celery worker."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.access import GRANTS_SESSION_KEY
from cases.caller_views import STATUS_SESSION_KEY
from ncii_portal.tasks import clear_expired_sessions
from tests.calls import image, issue_code, open_case, submit
from tests.conftest import make_staff, signed_in_client, wait_for


def session_of(client):
    return Session.objects.get(session_key=client.cookies["sessionid"].value)


def test_beat_clears_expired_sessions_daily():
    from tests.helpers import beat_schedule

    assert "clear-expired-sessions" in beat_schedule(DEBUG="0")


@pytest.mark.worker
def test_expired_sessions_are_purged_with_what_they_held(transactional_db, celery_worker):
    caseworker = make_staff("casey@helpline.test", "caseworker")
    colleague = make_staff("robin@helpline.test", "caseworker")
    case = open_case(caseworker)
    pin = submit(issue_code(case, caseworker), [image(1)]).json()["pin"]
    caller = Client()
    assert caller.post(reverse("caller:status"), {"reference": case.reference, "pin": pin}).status_code == 302
    covering = signed_in_client(colleague)
    assert covering.post(reverse("case_open_by_reference", args=[case.reference]),
                         {"reason": "covering", "note": "Casey is off"}).status_code == 302
    expired = [session_of(caller), session_of(covering)]
    assert STATUS_SESSION_KEY in expired[0].get_decoded() and GRANTS_SESSION_KEY in expired[1].get_decoded()
    live = session_of(signed_in_client(caseworker))
    # Time passes for the two: their expiry date (SESSION_COOKIE_AGE after their last use) goes by.
    Session.objects.filter(pk__in=[s.pk for s in expired]).update(expire_date=timezone.now() - timedelta(minutes=1))

    clear_expired_sessions.delay()
    assert wait_for(lambda: not Session.objects.filter(pk__in=[s.pk for s in expired]).exists(), timeout=30)
    assert Session.objects.filter(pk=live.pk).exists()
    assert not any(STATUS_SESSION_KEY in s.get_decoded() or GRANTS_SESSION_KEY in s.get_decoded()
                   for s in Session.objects.all())
    assert covering.get(reverse("case_live", args=[case.reference])).status_code == 302  # signed out: gone
