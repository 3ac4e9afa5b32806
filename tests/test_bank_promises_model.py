"""The bank's two promises, as a model: random interleavings of everything that moves a hash, checked after every
step (design rule 9).

Callers submit and withdraw (on the status page and through staff), staff pause and un-pause hashes, a native
reader fetches pages, a StopNCII reader syncs and is cut off midway, a push partner answers with errors and is
retried, parked and resumed, partners are suspended, resumed and offboarded, and retention runs as if months had
passed. Each partner's own view of the bank is rebuilt from what it was really handed. After every step:

- no partner was handed a hash as active that was not shareable when it was handed (cut, for push);
- every partner that ever held a hash, and is not offboarded, was told of its withdrawal before the hash left
  the bank;
- a case's withdrawal shows a partner as told (the caller's status page) only when that partner was told;
- a push batch is sent again exactly as it was cut, never rewritten;
- and, whenever a reader reads to the end (midway, not only when everything is withdrawn at the end), it agrees
  with the bank about every hash it takes: nothing lost, nothing handed out of order.
"""

import json
import os
import random
from collections import defaultdict
from datetime import timedelta

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases import actions as cases
from cases.models import Case
from hashing import actions as bank
from hashing.models import BankHash
from hashing.signal_types import carried_by_stopncii
from ncii_portal import retention
from partners import onboarding, push, webhooks, withdrawals
from partners.feed import heard_by_every_partner
from partners.models import Delivery, Partner
from tests.calls import ensure_checklist, image, issue_code, open_case, submit, video
from tests.helpers import ACTOR, live_partner, wait_for_the_stopncii_horizon

pytestmark = pytest.mark.django_db(transaction=True)


class Reader:
    """A partner and what it believes of each hash value: "active" or "withdrawn", from what it was handed."""

    def __init__(self, partner):
        self.partner, self.view = partner, {}

    @property
    def offboarded(self):
        return self.refresh().state == Partner.State.OFFBOARDED

    def refresh(self):
        self.partner.refresh_from_db()
        return self.partner

    def handed(self, records):
        """Apply records in the order they came; each active one must be shareable now (nothing else moved)."""
        for value, status in records:
            if status == "active":
                row = BankHash.objects.filter(value=value).first()
                assert row is not None and row.is_shareable, f"{self.partner.slug} was handed {value} as active"
            self.view[value] = status

    def takes(self, bank_hash):
        return self.partner.wants(bank_hash.signal_type)

    def check_caught_up(self):
        """A reader that has read to the end believes what the bank says now, of every value it was ever handed,
        and holds every shareable hash it takes: nothing handed out of order (a rewind), nothing lost."""
        if self.offboarded:
            return
        shareable = {h.value: h for h in BankHash.objects.shareable()}
        wrong = sorted(v for v, status in self.view.items() if status != ("active" if v in shareable else "withdrawn"))
        missing = sorted(v for v, h in shareable.items() if self.takes(h) and v not in self.view)
        assert not wrong and not missing, f"{self.partner.slug} caught up, yet wrong about {wrong}, missing {missing}"


class NativeReader(Reader):
    def __init__(self, partner):
        super().__init__(partner)
        key, secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
        self.auth, self.cursor = f"Bearer {key.public_id}.{secret}", ""

    def step(self, rng, cut_off=True):
        for _page in range(rng.randint(1, 3) if cut_off else 10_000):
            response = Client().get(reverse("api:hashes"), {"cursor": self.cursor, "limit": rng.randint(1, 3)},
                                    HTTP_AUTHORIZATION=self.auth)
            if self.refresh().state != Partner.State.LIVE:
                assert response.status_code == 403
                return
            assert response.status_code == 200, response.content
            body = response.json()
            self.handed((r["value"], r["status"]) for r in body["records"])
            self.cursor = body["cursor"]
            if not body["has_more"]:
                self.check_caught_up()
                return


class StopNCIIReader(Reader):
    """Keeps each page's checkpoint as the threatexchange client does, and is cut off midway at random."""

    def takes(self, bank_hash):
        return super().takes(bank_hash) and carried_by_stopncii(bank_hash.signal_type, bank_hash.video)

    def __init__(self, partner):
        super().__init__(partner)
        key, self.secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
        self.key, self.checkpoint = key.public_id, 0

    def step(self, rng, cut_off=True):
        token, start = "", self.checkpoint
        while True:
            response = Client().get(reverse("api:stopncii_fetch_hashes"),
                                    {"startTimestamp": start, "pageSize": rng.randint(1, 2), "nextPageToken": token},
                                    HTTP_OCP_APIM_SUBSCRIPTION_KEY=self.key, HTTP_X_FUNCTIONS_KEY=self.secret)
            if self.refresh().state != Partner.State.LIVE:
                assert response.status_code == 403
                return
            assert response.status_code == 200, response.content
            body = response.json()
            self.handed((r["hashValue"], r["hashStatus"].lower()) for r in body["hashRecords"])
            self.checkpoint = body["nextSetTimestamp"]
            token = body["nextPageToken"]
            if not body["hasMoreRecords"] or (cut_off and rng.random() < 0.5):  # done, or cut off midway
                return


class PushReceiver(Reader):
    """Takes a batch only when it answers 2xx (what it answered an error to, it will be sent again)."""

    def __init__(self, partner, server):
        super().__init__(partner)
        self.server, self.seen, self.batches = server, 0, 0
        self.bodies = {}  # each batch's body as it was cut: a batch is sent again as it was, never rewritten
        self.secret = webhooks.set_webhook(partner, server.url, **ACTOR)

    def step(self, rng, cut_off=True):
        self.server.answers[:] = [rng.choice([200, 503]) if cut_off else 200]
        Delivery.objects.filter(partner=self.partner, state=Delivery.State.PENDING).update(due_at=timezone.now())
        push.run_round(self.partner.pk)
        self.check_cut()
        for delivery in Delivery.objects.filter(pk__in=self.bodies).only("body"):
            assert delivery.body == self.bodies[delivery.pk], f"batch {delivery.pk} changed after it was cut"
        for _headers, body in self.server.calls[self.seen:]:
            assert body.decode() in self.bodies.values(), "a batch was sent that is not as it was cut"
        for (_headers, body), status in zip(self.server.calls[self.seen:], self.server.statuses[self.seen:],
                                            strict=True):
            if 200 <= status < 300:
                self.view.update({r["value"]: r["status"] for r in json.loads(body)["data"]["records"]})
        self.seen = len(self.server.calls)

    def check_cut(self):
        """Batches cut in this step: what they say is active is shareable now (nothing else moved since)."""
        for delivery in Delivery.objects.filter(partner=self.partner, pk__gt=self.batches).order_by("id"):
            for record in json.loads(delivery.body)["data"]["records"]:
                if record["status"] == "active":
                    assert BankHash.objects.get(value=record["value"]).is_shareable
            self.bodies[delivery.pk] = delivery.body
            self.batches = delivery.pk


class World:
    def __init__(self, rng, caseworker, receiver):
        self.rng, self.caseworker = rng, caseworker
        self.readers = [NativeReader(live_partner("native")), StopNCIIReader(live_partner("stopncii")),
                        PushReceiver(live_partner("pusher"), receiver(answers=[200]))]
        self.cases = []  # (case, its withdrawal is checked through the caller's summary)

    # --- Steps ---------------------------------------------------------------------------------------------

    def submit(self):
        """A case with a few files; values come from a pool, so cases sometimes share hashes."""
        items = [video(n) if n > 30 else image(n, quality=self.rng.choice([30, 80, 80]))
                 for n in self.rng.sample(range(1, 41), self.rng.randint(1, 3))]  # one file once per submission
        case = open_case(self.caseworker)
        assert submit(issue_code(case, self.caseworker), items).status_code == 200
        self.cases.append(case)

    def withdraw(self):
        holding = [c for c in self.cases if Case.objects.filter(pk=c.pk, status__in=Case.HOLDING).exists()]
        if holding:
            case = self.rng.choice(holding)
            if self.rng.random() < 0.5:
                cases.withdraw_case(case)  # the caller, on the status page
            else:
                cases.withdraw_case(case, by=self.caseworker, reason="caller_asked")

    def review(self):
        """Staff pause a hash, or take it out of review (partners' NotBlocked consensus does the same)."""
        from django.db import transaction

        with transaction.atomic():
            row = BankHash.objects.select_for_update().order_by("?").first()
            if row is not None:
                bank.set_review(row, BankHash.Review.NONE if row.review else BankHash.Review.PAUSED)

    def fetch(self):
        self.rng.choice(self.readers).step(self.rng)

    def catch_up(self):
        """A reader reads to the end (a push partner answering 2xx) and must then agree with the bank: the end of
        the run withdraws everything, which would hide a lost or rewound record, so this happens midway."""
        reader = self.rng.choice(self.readers)
        if reader.refresh().state != Partner.State.LIVE:
            return
        if isinstance(reader, StopNCIIReader):
            wait_for_the_stopncii_horizon()
        if isinstance(reader, PushReceiver):
            self.resume_push()
            for _round in range(5):  # a few batches a round
                reader.step(self.rng, cut_off=False)
        else:
            reader.step(self.rng, cut_off=False)
        reader.check_caught_up()

    def sync(self):
        """StopNCII syncs are cut off often, and a withdrawal in the second a sync stopped in is what they risk:
        they get a step of their own."""
        self.readers[1].step(self.rng)

    def move(self):
        reader = self.rng.choice(self.readers)
        state = reader.refresh().state
        if state == Partner.State.LIVE:
            move = "offboard" if self.rng.random() < 0.05 else "suspend"
        elif state == Partner.State.SUSPENDED:
            move = "resume"
        else:
            return
        onboarding.move_partner(reader.partner, move, **ACTOR)

    def resume_push(self):
        pusher = self.readers[2]
        if pusher.refresh().state == Partner.State.LIVE:
            webhooks.resume_push(pusher.partner, by=None)

    def retention(self):
        """Retention as if long enough had passed for everything withdrawn, and for every waiting batch."""
        before = set(BankHash.objects.values_list("value", flat=True))
        later = timezone.now() + timedelta(days=1000)
        retention.apply(now=later)
        gone = before - set(BankHash.objects.values_list("value", flat=True))
        for reader in self.readers:
            if not reader.offboarded:
                held = sorted(v for v in gone if reader.view.get(v) == "active")
                assert not held, f"{reader.partner.slug} still blocks {held}, removed from the bank unannounced"

    # --- After every step ------------------------------------------------------------------------------------

    def check(self):
        self.check_heard()
        self.check_told()

    def check_heard(self):
        """What retention would remove once old enough (withdrawn, every partner owed it has heard) no partner
        still blocks: checked at every step, not only when retention happens to run."""
        heard = set(heard_by_every_partner(BankHash.objects.filter(status=BankHash.Status.WITHDRAWN))
                    .values_list("value", flat=True))
        for reader in self.readers:
            if not reader.offboarded:
                held = sorted(v for v in heard if reader.view.get(v) == "active")
                assert not held, f"{reader.partner.slug} is taken to have heard, still blocks {held}"

    def check_told(self):
        """The caller's status page shows a partner told only when it was."""
        fresh = Case.objects.in_bulk([case.pk for case in self.cases])  # every case as it is now, in one query
        self.cases = [fresh[case.pk] for case in self.cases]
        withdrawn_cases = [case for case in self.cases if case.is_withdrawn]
        withdrawn_of = defaultdict(list)  # case pk: the values of its hashes not shareable now
        for h in (BankHash.objects.filter(items__case__in=withdrawn_cases).annotate(case_pk=F("items__case"))
                  .distinct()):
            if not h.is_shareable:
                withdrawn_of[h.case_pk].append(h.value)
        for case in withdrawn_cases:
            withdrawn = withdrawn_of[case.pk]
            told = {row["partner"] for row in withdrawals.summary(case)["rows"] if row["told"]}
            for reader in self.readers:
                if reader.partner.name in told:
                    still = [v for v in withdrawn if reader.view.get(v) == "active"]
                    assert not still, f"case {case.reference}: {reader.partner.slug} shown told, still holds {still}"


STEPS = {"submit": 3, "withdraw": 3, "fetch": 6, "sync": 6, "review": 2, "move": 2, "resume_push": 1,
         "retention": 2, "catch_up": 2}


# The first seed runs in the fast lane too, the rest only in the whole suite.
SEEDS = [int(s) for s in os.environ.get("MODEL_SEEDS", "1,2,3,9").split(",")]


@pytest.mark.parametrize("seed", [pytest.param(seed, marks=[pytest.mark.slow] * (n > 0))
                                  for n, seed in enumerate(SEEDS)])
def test_every_partner_that_had_a_hash_hears_of_its_withdrawal_before_it_leaves_the_bank(
        seed, caseworker, receiver, push_settings, push_by_hand):
    push_settings.PUSH_RETRY_SCHEDULE = [0, 0]  # parked after the third failure: resume_push re-drives it
    push_settings.CALLER_SUBMISSIONS_PER_IP_PER_HOUR = 10_000  # every caller here shares the test client's address
    ensure_checklist()
    rng = random.Random(seed)
    world = World(rng, caseworker, receiver)
    names, weights = zip(*STEPS.items(), strict=True)
    for _step in range(int(os.environ.get("MODEL_STEPS", 100))):
        getattr(world, rng.choices(names, weights)[0])()
        world.check()
    # In the end every partner not offboarded comes back and catches up, the push partner answering 2xx; then
    # retention removes every withdrawn hash (the promise is kept without holding hashes forever).
    for reader in world.readers:
        if reader.refresh().state == Partner.State.SUSPENDED:
            onboarding.move_partner(reader.partner, "resume", **ACTOR)
    world.resume_push()
    for case in world.cases:
        cases.withdraw_case(case)
    wait_for_the_stopncii_horizon()  # StopNCII hands out a second once it can receive no more changes
    for _round in range(3):  # push sends at most a few batches a round
        for reader in world.readers:
            reader.step(rng, cut_off=False)
        world.check()
    for reader in world.readers:
        reader.check_caught_up()
    world.retention()
    assert not BankHash.objects.filter(status=BankHash.Status.WITHDRAWN).exists()
