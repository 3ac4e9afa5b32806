"""Signing in: email + password, then a TOTP code; failures are rate limited and audited."""

import time

import pyotp
import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tests.conftest import PASSWORD, totp_now


def sign_in(client, email, password):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_login_needs_the_second_factor(client, caseworker):
    response = sign_in(client, caseworker.email, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("dashboard")).status_code == 302  # not signed in yet

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000" if totp_now(caseworker) != "000000" else "1"})
    assert wrong.status_code == 200
    response = client.post(reverse("mfa_authenticate"), {"code": totp_now(caseworker)})
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    assert AuditEvent.objects.filter(action="staff.login", actor=caseworker).exists()


def test_a_code_from_the_step_just_ended_counts_once_and_older_ones_do_not(client, caseworker):
    totp = pyotp.TOTP(caseworker.totp_secret)
    now = time.time()
    sign_in(client, caseworker.email, PASSWORD)
    stale = client.post(reverse("mfa_authenticate"), {"code": totp.at(now - 120)})
    assert stale.status_code == 200  # four steps old: refused
    just_ended = totp.at(now - 30)
    assert client.post(reverse("mfa_authenticate"), {"code": just_ended}).status_code == 302
    client.logout()

    sign_in(client, caseworker.email, PASSWORD)
    assert client.post(reverse("mfa_authenticate"), {"code": just_ended}).status_code == 200  # used already


def test_staff_without_authenticator_must_enrol_first(client, newcomer, django_capture_on_commit_callbacks):
    response = sign_in(client, newcomer.email, PASSWORD)
    assert response.status_code == 302
    response = client.get(reverse("dashboard"))
    assert response["Location"] == reverse("mfa_activate_totp")
    # allauth asks for the password once more before an authenticator is added.
    enrol = client.get(reverse("mfa_activate_totp"))
    assert enrol["Location"].startswith(reverse("account_reauthenticate"))
    client.post(enrol["Location"], {"password": PASSWORD})
    enrol = client.get(reverse("mfa_activate_totp"))
    assert enrol.status_code == 200
    assert b"Authenticator" in enrol.content
    assert client.get(reverse("audit_log")).status_code == 302  # still nothing else

    # Finish enrolment with a code from the secret the page showed; then the portal opens.
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    secret = client.session[SECRET_SESSION_KEY]
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("mfa_activate_totp"), {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    assert AuditEvent.objects.filter(action="staff.mfa_added", actor=newcomer, details={"type": "totp"}).exists()


def test_failed_logins_are_rate_limited_and_audited(client, caseworker):
    for _ in range(5):
        response = sign_in(client, caseworker.email, "wrong password")
        assert response.status_code == 200
        assert b"too many" not in response.content.lower()
    blocked = sign_in(client, caseworker.email, PASSWORD)  # even the right password, once limited
    assert b"too many failed login attempts" in blocked.content.lower()
    assert client.get(reverse("dashboard")).status_code == 302
    assert AuditEvent.objects.filter(action="staff.login_failed").count() == 5


def test_no_public_signup(client, db):
    response = client.post(reverse("account_signup"), {"email": "me@example.org", "password1": "a long password 123"})
    assert b"closed" in response.content.lower()
    from staff.models import User

    assert not User.objects.filter(email="me@example.org").exists()


@pytest.mark.parametrize("path", ["/admin/", "/admin/login/"])
def test_admin_login_goes_through_allauth(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
