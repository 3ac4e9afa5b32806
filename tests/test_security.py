"""Production settings pass Django's deploy checks; pages carry the security headers; logs hold no secrets."""

import logging
import os
import subprocess
import sys
from pathlib import Path

from django.urls import reverse

from ncii_portal.logging import RedactSecrets, redact

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_is_clean_with_production_env():
    env = {k: v for k, v in os.environ.items()
           if k not in ("DEBUG", "SECURE_SSL_REDIRECT", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(DEBUG="0", SECRET_KEY="production-like-secret-key-with-entropy-9f3a1c-" + "k" * 20,
               ALLOWED_HOSTS="portal.example.org")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_pages_send_security_headers(client, db):
    response = client.get(reverse("account_login"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "<script>" not in response.content.decode()  # no inline script anywhere CSP would block


def test_logs_never_hold_tokens_or_keys():
    assert redact("GET /h/AbCdEfGhIjKlMnOpQrStUv HTTP/1.1") == "GET /h/[redacted] HTTP/1.1"
    assert redact("x-functions-key: s3cr3tvalue") == "x-functions-key: [redacted]"
    assert redact("/reset?token=abc&x=1") == "/reset?token=[redacted]&x=1"
    record = logging.LogRecord("t", logging.INFO, "", 0, "url %s", ("/h/AbCdEfGhIjKlMnOpQrStUv",), None)
    RedactSecrets().filter(record)
    assert "AbCdEf" not in record.getMessage()
