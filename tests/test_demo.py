"""`manage.py seed_demo`: demo staff and, from the call, contacts and cases of every kind; idempotent."""

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from cases.demo import DEMO_PIN
from cases.models import Case, Contact, Item, Referral
from hashing.models import BankHash


def seed(settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="class")
def seeded_once(django_db_setup, django_db_blocker):
    """The demo seeded once for a class of tests that read it, in a transaction each of their tests runs inside
    (pytest-django's db then keeps each test in a savepoint of its own), rolled back after the class: a seed is
    a thousand queries. What seed_demo printed is returned."""
    from django.db import transaction
    from django.test import override_settings

    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(DEBUG=True):
            out = io.StringIO()
            call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded_once, db, settings):
    settings.DEBUG = True  # as after a seed of the test's own
    return seeded_once


def counts():
    return [model.objects.count() for model in (Contact, Case, Item, BankHash, Referral)]


class TestTheSeededDemo:
    """Tests that read the demo as one seed left it (seeded_once)."""

    def test_demo_data_covers_the_call_and_is_idempotent(self, demo, settings):
        assert demo.count('"totp_secret"') == 4  # the accounts, and nothing else printed
        assert set(Contact.objects.values_list("channel", flat=True)) == set(Contact.Channel.values)
        assert set(Case.objects.values_list("status", flat=True)) == set(Case.Status.values)
        assert set(Item.objects.values_list("kind", flat=True)) >= {"image", "video"}
        assert BankHash.objects.shareable().filter(signal_type="pdq").count() >= 2
        under_18 = Contact.objects.get(outcome=Contact.Outcome.UNDER_18)
        assert under_18.case is None and under_18.referrals.filter(to=Referral.To.TAKE_IT_DOWN).exists()
        before = counts()
        seed(settings)
        assert counts() == before

    @pytest.mark.parametrize("reference", ["DEM0-0000-0002", "dem0 0000 0004"])
    def test_demo_cases_open_with_the_demo_pin(self, demo, reference):
        client = Client()
        response = client.post(reverse("caller:status"), {"reference": reference, "pin": DEMO_PIN})
        assert response.status_code == 302
        assert "Your case" in client.get(reverse("caller:case")).content.decode()

    def test_demo_casework(self, demo):
        from cases.models import CaseEvidence, CaseNote

        assert set(CaseEvidence.objects.values_list("state", flat=True)) == set(CaseEvidence.State.values)
        assert CaseNote.objects.exists() and Referral.objects.filter(case__isnull=False, status="made").exists()
        assert Case.objects.filter(caseworker=None).exists() and Case.objects.exclude(caseworker=None).exists()

    def test_demo_partners(self, demo):
        from partners.models import Outcome, Partner

        assert set(Partner.objects.values_list("state", flat=True)) == set(Partner.State.values)
        assert all(p.keys.exists() for p in Partner.objects.live())
        assert set(Outcome.objects.values_list("value", flat=True)) == {"PendingReview", "Blocked", "NotBlocked",
                                                                        "Removed"}
        assert Outcome.objects.values("bank_hash").distinct().count() >= 2
        assert Partner.objects.get(state="integration").sandbox_reports.exists()

    def test_demo_takedowns(self, demo, settings):
        from takedowns.models import Address, Site, TakedownRequest

        assert set(Site.objects.values_list("kind", flat=True)) >= {"partner", "adult", "forum", "hosting"}
        assert Site.objects.get(kind="partner").partner.slug == "demo-photogram"
        assert set(Address.objects.values_list("outcome", flat=True)) >= {"new", "asked", "removed", "refused",
                                                                          "no_answer"}
        assert TakedownRequest.objects.for_attention().count() == 1
        before = (Site.objects.count(), Address.objects.count())
        seed(settings)
        assert (Site.objects.count(), Address.objects.count()) == before


def test_demo_push_partner_delivers_to_the_local_receiver(db, settings, tmp_path):
    from partners.models import Webhook

    settings.WEBHOOK_ALLOW_LOOPBACK, settings.DATA_DIR = True, tmp_path
    seed(settings)
    webhook = Webhook.objects.get()
    assert webhook.partner.slug == "demo-photogram" and webhook.url == "http://127.0.0.1:8025/hook"
    assert (tmp_path / "demo-webhook-secret").read_text().startswith("whsec_")
