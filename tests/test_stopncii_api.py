"""The StopNCII-compatible API, through the client partners already run: `threatexchange`'s StopNCIIAPI with
base_url_override against the live portal."""

import time
from datetime import UTC, datetime

import pytest
import requests
from django.urls import reverse
from threatexchange.exchanges.clients.stopncii.api import StopNCIIAPI

from cases import actions as cases
from cases.models import Case
from partners import onboarding
from tests.calls import image, issue_code, open_case, submit, video
from tests.conftest import make_staff, wait_for
from tests.helpers import ACTOR, database_second, live_partner, wait_for_the_stopncii_horizon


@pytest.fixture
def client_for(live_server, transactional_db):
    def make(partner, scopes=("fetch",)):
        key, secret = onboarding.issue_key(partner, scopes=list(scopes), **ACTOR)
        base = live_server.url + reverse("api:stopncii_fetch_hashes").rsplit("/", 1)[0]
        return StopNCIIAPI(key.public_id, secret, base_url_override=base), key, secret

    return make


def fetch_everything(api, start=StopNCIIAPI.DEFAULT_START_TIME, wait=True):
    """Every record the client parsed, the raw count the portal sent, and the checkpoint it would store.

    Waits first (unless told not to) until the seconds changes were written in have passed: a sync never hands
    out a second that may still receive changes."""
    if wait:
        wait_for_the_stopncii_horizon()
    parsed, sent, checkpoint = {}, 0, start
    for page in api.fetch_hashes_iter(start_timestamp=start):
        sent += page.count
        checkpoint = page.nextSetTimestamp
        for record in page.hashRecords:
            parsed[(record.signalType.value, record.hashValue)] = record
    return parsed, sent, checkpoint


def test_the_threatexchange_client_fetches_every_record_it_is_entitled_to(client_for, monkeypatch):
    caseworker = make_staff("casey@helpline.test", "caseworker")
    partner = live_partner()
    api, _key, _secret = client_for(partner)
    case = open_case(caseworker)
    submit(issue_code(case, caseworker), [image(1), image(2, quality=10), video(3)])
    other = open_case(caseworker)
    submit(issue_code(other, caseworker), [image(1)])  # the same photo in a second case

    # Small pages, so the client follows nextPageToken.
    monkeypatch.setattr(StopNCIIAPI, "fetch_hashes", _small_pages(StopNCIIAPI.fetch_hashes))
    records, sent, checkpoint = fetch_everything(api)
    assert sent == len(records)  # none skipped by the client's parser
    assert set(records) == {("ImagePDQ", image(1)["pdq"]), ("VideoMD5", video(3)["md5"])}
    pdq = records[("ImagePDQ", image(1)["pdq"])]
    assert pdq.hashStatus.value == "Active" and len(pdq.caseNumbers) == 2
    references = {c.reference for c in Case.objects.all()} | {c.display_reference for c in Case.objects.all()}
    assert not references & set(pdq.caseNumbers)  # pseudonyms, never case references
    assert {status.value for status in pdq.caseNumbers.values()} == {"Active"}

    # A withdrawal comes through from the stored checkpoint as hashStatus Withdrawn.
    cases.withdraw_case(case)
    later, later_sent, _checkpoint = fetch_everything(api, start=checkpoint)
    assert later_sent == len(later)
    assert later[("VideoMD5", video(3)["md5"])].hashStatus.value == "Withdrawn"
    assert ("ImagePDQ", image(1)["pdq"]) not in later  # still held by the other case: nothing changed


def _small_pages(fetch):
    def fetch_small(self, **kwargs):
        kwargs["page_size"] = 1
        return fetch(self, **kwargs)

    return fetch_small


def test_pseudonyms_differ_between_partners(client_for):
    caseworker = make_staff("casey@helpline.test", "caseworker")
    submit(issue_code(open_case(caseworker), caseworker), [image(5)])
    first, _k, _s = client_for(live_partner("first"))
    second, _k2, _s2 = client_for(live_partner("second"))
    (a,) = fetch_everything(first)[0].values()
    (b,) = fetch_everything(second)[0].values()
    assert set(a.caseNumbers) != set(b.caseNumbers) and len(a.caseNumbers) == len(b.caseNumbers) == 1


def test_wrong_keys_are_refused_with_json(client_for, live_server):
    _api, key, secret = client_for(live_partner())
    url = live_server.url + reverse("api:stopncii_fetch_hashes")
    wrong = requests.get(url, headers={"Ocp-Apim-Subscription-Key": key.public_id, "x-functions-key": "nope"},
                         timeout=10)
    assert wrong.status_code == 401 and wrong.json()["error"]
    bad = requests.get(url, params={"pageSize": "many"}, timeout=10,
                       headers={"Ocp-Apim-Subscription-Key": key.public_id, "x-functions-key": secret})
    assert bad.status_code == 400 and bad.json()["field"] == "pageSize"
    forged = requests.get(url, params={"nextPageToken": "forged"}, timeout=10,
                          headers={"Ocp-Apim-Subscription-Key": key.public_id, "x-functions-key": secret})
    assert forged.status_code == 400 and forged.json()["field"] == "nextPageToken"


def test_a_checkpoint_never_passes_a_change_still_to_commit(client_for):
    """A transaction that wrote a change and stays open holds the checkpoint back; synced from that checkpoint
    after it commits, the change arrives."""
    import threading

    from django.db import connection, transaction

    from hashing import actions as bank

    api, _key, _secret = client_for(live_partner())
    written, release = threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                bank.bank_signal("pdq", "ab" * 32, quality=90)
                written.set()
                release.wait(20)
        finally:
            connection.close()

    began = int(time.time())
    writer = threading.Thread(target=slow_writer)
    writer.start()
    written.wait(10)
    committed = bank.bank_signal("pdq", "cd" * 32, quality=90)  # committed at once, after the slow one began
    # Until its second has passed: without the open transaction, the sync would hand it out now.
    assert wait_for(lambda: database_second() > committed.changes.get().at.timestamp())
    first, _sent, checkpoint = fetch_everything(api, wait=False)
    assert ("ImagePDQ", "ab" * 32) not in first and ("ImagePDQ", "cd" * 32) not in first
    assert checkpoint <= began  # held back by the open transaction
    release.set()
    writer.join(10)
    later, _sent, _checkpoint = fetch_everything(api, start=checkpoint)
    assert {("ImagePDQ", "ab" * 32), ("ImagePDQ", "cd" * 32)} <= set(later)


def test_each_page_carries_a_checkpoint_a_stopped_sync_can_resume_from(client_for):
    """threatexchange stores every page's nextSetTimestamp; a sync stopped after page one and resumed from it
    must still receive every record."""
    from hashing import actions as bank
    from hashing.models import BankChange

    api, _key, _secret = client_for(live_partner())
    for n, second in enumerate((1_700_000_000, 1_700_000_100, 1_700_000_200)):
        change = bank.bank_signal("pdq", f"{n + 1:064x}", quality=90).changes.get()
        BankChange.objects.filter(pk=change.pk).update(at=datetime.fromtimestamp(second, UTC))
    wait_for_the_stopncii_horizon()
    first = api.fetch_hashes(page_size=1, start_timestamp=10)
    assert first.hasMoreRecords and first.nextSetTimestamp == 1_700_000_000  # not the end of the whole sync
    resumed, _sent, _checkpoint = fetch_everything(api, start=first.nextSetTimestamp)
    assert {value for _type, value in resumed} == {f"{n:064x}" for n in (1, 2, 3)}
