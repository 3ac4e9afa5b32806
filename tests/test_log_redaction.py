"""Secrets in request paths never reach a log: real gunicorn access log lines, real Celery worker output.

The set-password key of an invitation or reset link is in its path; so will be the caller's one-time link token.
"""

import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import server_env, wait_for
from tests.helpers import free_port
from tests.tasks import log_visit

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # gunicorn and a Celery worker: processes of their own
SECRET = "c7k4p0-0f3a9b2e71d84c55a6b0e1f2d3c4b5a6"
KEY_PATH = f"/accounts/password/reset/key/2-{SECRET}/"


@pytest.fixture
def gunicorn(django_db_setup, django_db_blocker, tmp_path):
    """gunicorn as docs/operations.md runs it (its config file), on the test database; yields (url, log path)."""
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "ncii_portal/gunicorn.conf.py", "ncii_portal.wsgi",
             "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=ROOT, env=server_env(django_db_blocker), stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def answers():
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2)  # noqa: S310 (our own local server)
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True

    assert wait_for(answers, timeout=30), log.read_text()
    yield url, log
    server.terminate()
    server.wait(timeout=30)


def test_gunicorn_access_log_redacts_set_password_keys(gunicorn):
    url, log = gunicorn
    with urllib.request.urlopen(url + KEY_PATH + f"?token={SECRET}", timeout=10) as response:  # noqa: S310
        assert response.status == 200
    assert wait_for(lambda: "/accounts/password/reset/key/" in log.read_text(), timeout=10)
    text = log.read_text()
    assert SECRET not in text
    assert "GET /accounts/password/reset/key/[redacted]" in text


def test_gunicorn_access_log_redacts_the_callers_link_code(gunicorn, transactional_db):
    from django.urls import reverse

    from tests.calls import issue_code, open_case
    from tests.conftest import make_staff

    caseworker = make_staff("casey@helpline.test", "caseworker")
    code = issue_code(open_case(caseworker), caseworker)
    path = reverse("caller:hash", args=[code])  # the real route the caller opens
    url, log = gunicorn
    with urllib.request.urlopen(url + path, timeout=10) as response:  # noqa: S310 (our own local server)
        assert response.status == 200 and b"Make fingerprints" in response.read()
    assert wait_for(lambda: "GET /h/" in log.read_text(), timeout=10)
    text = log.read_text()
    assert code not in text
    assert "GET /h/[redacted]/ HTTP/1.1" in text


@pytest.mark.worker
def test_celery_worker_log_redacts_paths_in_messages_and_tracebacks(celery_worker):
    log_visit.delay(KEY_PATH)
    log = celery_worker.log_path
    assert wait_for(lambda: "could not follow" in log.read_text(), timeout=20)
    text = log.read_text()
    assert "visited /accounts/password/reset/key/[redacted]" in text
    assert "ValueError: could not follow /accounts/password/reset/key/[redacted]" in text  # the traceback
    assert SECRET not in text
