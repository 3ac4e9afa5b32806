"""The client IP comes from one trusted place: REMOTE_ADDR, or the proxy's header only when a setting names it.

Audit rows and allauth's rate limits read it through core.clientip; a malformed value never breaks a request.
"""

from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from tests.conftest import PASSWORD

PROXY = "10.0.0.2"


def fail_login(client, email="nobody@helpline.test", **headers):
    return client.post(reverse("account_login"), {"login": email, "password": "wrong password"}, **headers)


def test_without_the_setting_a_client_cannot_write_its_own_address(client, db, settings):
    settings.TRUSTED_CLIENT_IP_HEADER = ""
    for _ in range(5):
        response = fail_login(client, REMOTE_ADDR="198.51.100.7", HTTP_X_REAL_IP="x")
        assert response.status_code == 200
    fail_login(client, "other@helpline.test", REMOTE_ADDR="198.51.100.7", HTTP_X_REAL_IP="203.0.113.66")
    ips = list(AuditEvent.objects.filter(action="staff.login_failed").values_list("client_ip__ip", flat=True))
    assert ips == ["198.51.100.7"] * 6


def test_without_the_setting_spoofed_headers_do_not_escape_the_rate_limit(client, caseworker, settings):
    settings.TRUSTED_CLIENT_IP_HEADER = ""
    for n in range(10):
        fail_login(client, f"someone{n}@helpline.test", REMOTE_ADDR="198.51.100.7", HTTP_X_REAL_IP=f"203.0.113.{n}")
    blocked = client.post(reverse("account_login"), {"login": caseworker.email, "password": PASSWORD},
                          REMOTE_ADDR="198.51.100.7", HTTP_X_REAL_IP="203.0.113.200")
    assert b"too many" in blocked.content.lower()


def test_behind_the_proxy_the_header_is_the_client(db, settings):
    settings.TRUSTED_CLIENT_IP_HEADER = "X-Real-IP"
    Client().post(reverse("account_login"), {"login": "a@helpline.test", "password": "x"},
                  REMOTE_ADDR=PROXY, HTTP_X_REAL_IP="203.0.113.9")
    # An X-Forwarded-For style list: the last entry is what our proxy appended.
    Client().post(reverse("account_login"), {"login": "b@helpline.test", "password": "x"},
                  REMOTE_ADDR=PROXY, HTTP_X_REAL_IP="192.0.2.1, 2001:db8::1")
    response = Client().post(reverse("account_login"), {"login": "c@helpline.test", "password": "x"},
                             REMOTE_ADDR=PROXY, HTTP_X_REAL_IP="not-an-address")
    assert response.status_code == 200
    failed = AuditEvent.objects.filter(action="staff.login_failed").order_by("id")
    ips = list(failed.values_list("client_ip__ip", flat=True))
    assert ips == ["203.0.113.9", "2001:db8::1", PROXY]


def test_behind_the_proxy_one_clients_failures_do_not_lock_out_the_others(caseworker, settings):
    settings.TRUSTED_CLIENT_IP_HEADER = "X-Real-IP"
    attacker = Client()
    for n in range(10):
        fail_login(attacker, f"someone{n}@helpline.test", REMOTE_ADDR=PROXY, HTTP_X_REAL_IP="203.0.113.66")
    locked = fail_login(attacker, "another@helpline.test", REMOTE_ADDR=PROXY, HTTP_X_REAL_IP="203.0.113.66")
    assert b"too many" in locked.content.lower()

    colleague = Client().post(reverse("account_login"), {"login": caseworker.email, "password": PASSWORD},
                              REMOTE_ADDR=PROXY, HTTP_X_REAL_IP="198.51.100.20")
    assert colleague.status_code == 302 and colleague["Location"] == reverse("mfa_authenticate")
