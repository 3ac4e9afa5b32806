"""Files that are neither images nor videos (a PDF): the caller is warned on the phone and can remove one before
sending; one that is sent is kept with the case and counted on staff screens, but its MD5 is never shared
(StopNCII shares only images and videos; docs/hashing.md), and migration cases 0005 withdraws those shared before."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from hashing.models import BankChange, BankHash
from partners import feed, onboarding
from tests.calls import image, issue_code, open_case, submit, video
from tests.conftest import axe_violations, make_staff, signed_in_client
from tests.helpers import ACTOR, fetch_all, live_partner

PDF_MD5 = "d4" * 16


def document():
    return {"kind": "file", "md5": PDF_MD5}


def test_a_sent_pdf_is_kept_and_counted_but_never_shared(transactional_db, caseworker):
    partner = live_partner()
    key, secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
    case = open_case(caseworker)
    pin = submit(issue_code(case, caseworker), [image(1), image(2), image(3), image(4), document()]).json()["pin"]

    row = BankHash.objects.get(signal_type="md5", value=PDF_MD5)
    assert row.other_file and row not in BankHash.objects.shareable()
    records, _cursor = fetch_all(key, secret, limit=1000)
    sent = {record["value"] for record in records}
    assert image(1)["md5"] in sent and PDF_MD5 not in sent

    staff = signed_in_client(caseworker)
    listed = staff.get(reverse("case_list")).content.decode()
    assert "4 images, 0 videos, 1 other file (not shared)" in listed
    detail = staff.get(reverse("case_detail", args=[case.reference])).content.decode()
    assert '<td data-count="file">1</td>' in detail

    caller = Client()
    caller.post(reverse("caller:status"), {"reference": case.display_reference, "pin": pin})
    status = caller.get(reverse("caller:case")).content.decode()
    row = status[status.index('<tr data-kind="file">'):]
    row = " ".join(row[:row.index("</tr>")].split())
    assert row == ('<tr data-kind="file"><td>5</td><td>Other file</td> <td>Received; not shared: only images and '
                   "videos are shared with partner websites</td>")


def test_an_image_holding_the_same_md5_makes_it_shareable(caseworker):
    first, second = open_case(caseworker), open_case(caseworker)
    submit(issue_code(first, caseworker), [document()])
    assert not BankHash.objects.get(value=PDF_MD5).is_shareable
    submit(issue_code(second, caseworker), [{**video(1), "md5": PDF_MD5}])  # the same bytes, said to be a video
    assert BankHash.objects.get(value=PDF_MD5).is_shareable


def migrate(*targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(list(targets) or executor.loader.graph.leaf_nodes())  # none: the latest of every app


BEFORE = (("cases", "0005_hashinglink_purpose"), ("hashing", "0004_review_quarantine_rejected"))


@pytest.fixture
def back_to_the_latest_schema():
    """Later migrations are undone by going back to BEFORE: apply them again, whatever happened."""
    yield
    migrate()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
def test_the_migration_withdraws_the_md5s_of_other_files_shared_before():
    caseworker = make_staff("casey@helpline.test", "caseworker")
    partner = live_partner()
    key, secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
    case, other = open_case(caseworker), open_case(caseworker)
    submit(issue_code(case, caseworker), [image(1), document(), {"kind": "file", "md5": "e5" * 16}])
    submit(issue_code(other, caseworker), [{**image(2), "md5": "e5" * 16}])  # an image holds this one too
    migrate(*BEFORE)  # as the bank was: every MD5 shareable
    migrate()  # through cases 0006_other_files_not_shared, to the code's own schema
    before = BankChange.objects.filter(bank_hash__value=PDF_MD5).order_by("txid", "id")
    assert list(before.values_list("other_file", flat=True)) == [False, True]
    assert BankHash.objects.get(value=PDF_MD5).other_file
    assert not BankHash.objects.get(value="e5" * 16).other_file

    first = before.first()  # a partner that fetched before the migration now hears it is withdrawn
    answer = Client().get(reverse("api:hashes"), {"cursor": feed.encode_cursor((first.txid, first.id))},
                          HTTP_AUTHORIZATION=f"Bearer {key.public_id}.{secret}").json()
    assert {r["value"]: r["status"] for r in answer["records"]}[PDF_MD5] == "withdrawn"
    assert PDF_MD5 not in {r["value"] for r in fetch_all(key, secret, limit=1000)[0]}  # a new one never hears of it


@pytest.mark.browser
def test_the_caller_is_warned_of_a_pdf_and_removes_it_before_sending(browser, live_server, transactional_db,
                                                                     tmp_path):
    from PIL import Image

    caseworker = make_staff("casey@helpline.test", "caseworker")
    code = issue_code(open_case(caseworker), caseworker)
    photo, pdf = tmp_path / "photo.png", tmp_path / "statement.pdf"
    Image.new("RGB", (90, 70), (10, 120, 200)).save(photo)
    pdf.write_bytes(b"%PDF-1.4\n" + b"1 0 obj << >> endobj\n" * 100)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server.url + f"/h/{code}/")
    for box in page.locator("input[name=consent]").all():
        box.check()
    page.locator("#files").set_input_files([str(photo), str(pdf)])
    page.wait_for_selector("body[data-state=ready]", timeout=30_000)
    row = page.locator("#file-list li", has_text="statement.pdf")
    expect(row.locator(".file-note")).to_have_text("Other file: This is not an image or a video, so its fingerprint "
                                                   "will not be shared with partner websites. You can remove it.")
    expect(row.locator(".file-note")).to_have_class("file-note warn")
    expect(page.locator("#other-files")).to_be_visible()
    expect(page.locator("#other-files")).to_contain_text("1 chosen file is not an image or a video")
    assert axe_violations(page) == [], "axe with a file that is not an image or video"
    row.get_by_role("button", name="Remove: statement.pdf").click()
    expect(page.locator("#other-files")).to_be_hidden()
    page.get_by_role("button", name="Send fingerprints").click()
    page.wait_for_selector("body[data-state=done]", timeout=30_000)
    assert list(BankHash.objects.filter(items__kind="file")) == []
    assert list(BankHash.objects.filter(signal_type="md5").values_list("other_file", flat=True)) == [False]

    page.goto(live_server.url + f"/h/{issue_code(open_case(caseworker), caseworker)}/?lang=es")
    for box in page.locator("input[name=consent]").all():
        box.check()
    page.locator("#files").set_input_files([str(pdf)])
    page.wait_for_selector("body[data-state=ready]", timeout=30_000)
    expect(page.locator("#file-list .file-note")).to_contain_text("No es una imagen ni un vídeo")
    expect(page.locator("#other-files")).to_contain_text("1 archivo elegido no es una imagen ni un vídeo")
    context.close()


def test_a_withdrawn_document_was_never_shared_so_no_partner_waits_to_hear_of_it(transactional_db, caseworker):
    from cases.actions import withdraw_case
    from partners import withdrawals

    partner = live_partner()
    key, secret = onboarding.issue_key(partner, scopes=["fetch"], **ACTOR)
    only_document, with_photo = open_case(caseworker), open_case(caseworker)
    submit(issue_code(only_document, caseworker), [document()])
    submit(issue_code(with_photo, caseworker), [image(1), {"kind": "file", "md5": "e5" * 16}])
    fetch_all(key, secret, limit=1000)  # the partner reads the bank: it had the photo, never a document
    for case in (only_document, with_photo):
        withdraw_case(case)

    # The caller's status page lists no partner website as having had, nor waiting to hear of, a document.
    assert withdrawals.summary(only_document)["partners"] == 0
    (row,) = withdrawals.reach(with_photo)
    photo = BankHash.objects.filter(items__case=with_photo, other_file=False)
    assert row["hashes"] == sum(partner.wants(bank_hash.signal_type) for bank_hash in photo)
