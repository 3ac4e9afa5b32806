"""The flood quarantine in a real browser: a supervisor follows "For your attention" from the dashboard to the
review queue, releases one held batch and rejects the next; axe-core checks the queue."""

import pytest
from playwright.sync_api import expect

from audit.models import AuditEvent
from hashing.models import BankHash
from tests.calls import image, self_service, values
from tests.conftest import axe_violations, make_staff, signed_in_context

pytestmark = pytest.mark.browser


def test_a_supervisor_releases_one_held_batch_and_rejects_the_next(browser, live_server, transactional_db,
                                                                    settings):
    settings.SELF_SERVICE_HOLD_ALL = True
    supervisor = make_staff("sam@helpline.test", "supervisor", name="Sam")
    real, planted = image(1, quality=90), image(2, quality=100)
    assert self_service(1, [real]).status_code == 200
    page = signed_in_context(browser, live_server, supervisor).new_page()
    page.goto(live_server.url + "/")
    page.locator("#quarantine-alert").get_by_role("link", name="3 self-service hashes held for review").click()
    expect(page.get_by_role("heading", name="Held by the flood quarantine")).to_be_visible()
    assert axe_violations(page) == [], "axe on the review queue"
    expect(page.locator("#quarantine tbody tr")).to_have_count(3)
    page.get_by_role("button", name="Release all 3").click()
    expect(page.get_by_text("3 held hashes released")).to_be_visible()
    expect(page.locator("#quarantine")).to_contain_text("Nothing is held.")
    assert values(real) <= set(BankHash.objects.shareable().values_list("value", flat=True))

    assert self_service(2, [planted]).status_code == 200
    page.goto(live_server.url + "/partners/review/")
    page.get_by_role("button", name="Reject all 3").click()
    expect(page.get_by_text("3 held hashes rejected: never shared")).to_be_visible()
    assert not values(planted) & set(BankHash.objects.shareable().values_list("value", flat=True))
    assert list(AuditEvent.objects.filter(action__startswith="bank.quarantine_").order_by("id").values_list(
        "action", "actor__email")) == [("bank.quarantine_approve", supervisor.email),
                                       ("bank.quarantine_reject", supervisor.email)]
    page.goto(live_server.url + "/")
    expect(page.locator("#quarantine-alert")).to_have_count(0)
