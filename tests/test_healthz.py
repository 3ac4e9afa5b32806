"""/healthz tells a load balancer whether the database and the broker answer."""

from functools import partialmethod

from django.urls import reverse
from kombu import Connection


def test_healthy(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_broker_down_is_503(client, db, settings, monkeypatch):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    # The check retries once, after kombu's pause of 2 s: the answer is checked here, not the pause.
    monkeypatch.setattr(Connection, "ensure_connection", partialmethod(Connection.ensure_connection, interval_start=0))
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down" and body["database"] == "ok" and body["broker"].startswith("down")


def test_filesystem_broker_counts_as_up(client, db, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    assert client.get(reverse("healthz")).status_code == 200
