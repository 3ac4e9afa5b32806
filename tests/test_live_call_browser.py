"""The caseworker on a live call, on a laptop's screen (1280×800), in a real browser: from the dashboard to a code
read out in at most four steps; closing and withdrawing at the end of the case page, behind a confirmation; no
service chosen in advance for a referral; and on every staff page of the call, times in one 24-hour format, no
double full stops, and each checkbox beside its label. axe-core checks the case page in each state."""

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from audit.models import AuditEvent
from cases.forms import ELIGIBILITY
from cases.models import Case, CaseEvent, Contact, HashingLink, Item, Referral, spoken
from tests.calls import ensure_checklist, image, issue_code, open_case, submit, video
from tests.conftest import axe_violations, make_staff, signed_in_context
from tests.helpers import ELIGIBILITY_QUESTIONS, answer_yes_to_everything

pytestmark = pytest.mark.browser

LAPTOP = {"viewport": {"width": 1280, "height": 800}}

# Counts, in the page itself, what the caseworker does: each click, and each submit no counted click made (Enter
# in a field). Answers to the eligibility script are the caller's words, asked whatever the page looks like: they
# are kept apart, and the test checks that all of them were still asked.
STEP_COUNTER = """
(() => {
  const eligibility = %s;
  let clicked = null;
  document.addEventListener("click", (event) => {
    if (!event.isTrusted) return;
    const control = event.target.closest("label")?.control || event.target;
    if (eligibility.includes(control.name)) { window.countStep("answer", control.name); return; }
    clicked = event.target.closest("button, input[type=submit]");
    window.countStep("step", (event.target.innerText || event.target.tagName).trim());
  }, true);
  document.addEventListener("submit", (event) => {
    if (!event.submitter || event.submitter !== clicked) window.countStep("step", "submit");
  }, true);
})();
"""


def assert_accessible(page, state):
    assert axe_violations(page) == [], f"axe on {state}"




def test_from_the_dashboard_to_a_code_read_out_in_at_most_four_steps(browser, live_server, transactional_db):
    ensure_checklist()
    casey = make_staff("casey@helpline.test", "caseworker", name="Casey")
    context = signed_in_context(browser, live_server, casey, **LAPTOP)
    steps, answers = [], set()
    context.expose_binding("countStep", lambda _source, kind, what: steps.append(what) if kind == "step"
                           else answers.add(what))
    context.add_init_script(STEP_COUNTER % json.dumps(ELIGIBILITY))
    page = context.new_page()
    page.goto(live_server.url + "/")

    page.locator("#main").get_by_role("link", name="Record a contact").click()
    answer_yes_to_everything(page)
    page.get_by_role("button", name="Record and open the case").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Case "))).to_be_visible()
    send = page.get_by_role("button", name="Send a hashing link")
    expect(send).to_be_in_viewport(ratio=1)  # at the top, no scrolling
    assert_accessible(page, "case page, just opened")
    send.click()

    code = page.locator("#link-code")
    expect(code).to_be_in_viewport(ratio=1)
    spelling = page.locator("#link-code-spoken")
    expect(spelling).to_be_in_viewport(ratio=1)
    assert len(steps) <= 4, f"{len(steps)} steps from the dashboard to the code: {steps}"
    assert steps == ["Record a contact", "Record and open the case", "Send a hashing link"]  # none went uncounted
    assert answers == set(ELIGIBILITY), "the whole eligibility script is still asked"

    shown = code.inner_text()
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", shown)
    assert code.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 28, "large enough to read out"
    words = [word for group in spoken(shown) for word in group]
    assert re.findall(r"[A-Za-z-]+", spelling.inner_text()) == words
    assert_accessible(page, "case page with a code")

    contact, case = Contact.objects.get(), Case.objects.get()
    assert (contact.channel, contact.caller, contact.case) == (Contact.Channel.PHONE, Contact.Caller.SUBJECT, case)
    assert case.links.count() == 1 and case.caseworker == casey
    # Two renders of the case page, two audited views (the live view's polling is none); the contact page was
    # never shown, so it was not viewed.
    assert AuditEvent.objects.filter(action="case.viewed", actor=casey).count() == 2
    assert not AuditEvent.objects.filter(action="contact.viewed").exists()
    context.close()


def test_an_intake_with_a_no_records_the_contact_and_opens_no_case(browser, live_server, transactional_db):
    casey = make_staff("casey@helpline.test", "caseworker", name="Casey")
    context = signed_in_context(browser, live_server, casey, **LAPTOP)
    page = context.new_page()
    page.goto(live_server.url + "/contacts/new/")
    page.get_by_role("group", name=re.compile(ELIGIBILITY_QUESTIONS[0])).get_by_label("Yes").check()
    page.get_by_role("group", name=re.compile(ELIGIBILITY_QUESTIONS[1])).get_by_label("No").check()
    page.get_by_role("button", name="Record and open the case").click()
    expect(page.get_by_role("heading", name="Under 18 in the content: no case here")).to_be_visible()
    assert not Case.objects.exists() and Contact.objects.get().outcome == Contact.Outcome.UNDER_18
    context.close()


@pytest.fixture
def submitted_case(transactional_db):
    ensure_checklist()
    casey = make_staff("casey@helpline.test", "caseworker", name="Casey")
    case = open_case(casey)
    assert submit(issue_code(case, casey), [image(1), video(2)]).status_code == 200
    return casey, case


def test_closing_and_withdrawing_come_last_behind_a_confirmation(browser, live_server, submitted_case):
    casey, case = submitted_case
    context = signed_in_context(browser, live_server, casey, **LAPTOP)
    page = context.new_page()
    page.goto(f"{live_server.url}/cases/{case.reference}/")
    close = page.get_by_role("button", name="Close case")
    withdraw = page.get_by_role("button", name="Withdraw for the caller")
    expect(withdraw).to_be_hidden()
    expect(close).to_be_hidden()
    expect(page.get_by_role("button", name="Make active")).to_be_in_viewport()  # not destructive: stays up top
    last = page.evaluate("""() => {
      const end = document.getElementById("end-case"), top = end.getBoundingClientRect().top;
      const others = [...document.querySelectorAll("main section")].filter(s => s !== end && !end.contains(s));
      return others.length > 5 && others.every(s => s.getBoundingClientRect().bottom <= top);
    }""")
    assert last, "closing and withdrawing come after every other section"

    page.get_by_text("Close or withdraw this case").click()
    expect(withdraw).to_be_visible()
    assert_accessible(page, "case page, close or withdraw open")
    withdrawal = page.locator("form", has=withdraw)
    withdrawal.get_by_label("Reason to withdraw").select_option("caller_asked")
    withdraw.click()  # not confirmed: the browser holds it back
    confirm = withdrawal.get_by_label(re.compile("Yes, withdraw"))
    assert confirm.evaluate("e => e.validity.valueMissing")
    assert Case.objects.get().status == Case.Status.HASHES_SUBMITTED
    confirm.check()
    withdraw.click()
    expect(page.locator("#withdrawn-banner")).to_be_visible()
    assert Case.objects.get().status == Case.Status.WITHDRAWN
    context.close()


def test_a_referral_starts_with_no_service_chosen(browser, live_server, submitted_case):
    casey, case = submitted_case
    context = signed_in_context(browser, live_server, casey, **LAPTOP)
    page = context.new_page()
    page.goto(f"{live_server.url}/cases/{case.reference}/")
    service = page.get_by_label("Service")
    expect(service).to_have_value("")
    page.get_by_role("button", name="Save referral").click()  # no service: nothing is saved
    assert service.evaluate("e => e.validity.valueMissing")
    assert not Referral.objects.filter(case=case).exists()
    service.select_option(label="Police")
    page.get_by_role("button", name="Save referral").click()
    expect(page.locator("#referrals")).to_contain_text("Police — Suggested")
    context.close()


# --- Times, full stops, checkboxes --------------------------------------------------------------------------

MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
TWELVE_HOUR = re.compile(r"\b[ap]\.\s?m\.|\b(?:noon|midnight)\b|\d\s?(?:am|pm|AM|PM)\b")
# Anything that looks like a date with a time, in any of the usual shapes...
DATE_TIME = re.compile(rf"\d{{1,2}} (?:{MONTHS})[a-z]*\.?,? (?:\d{{4}},? )?(?:at )?\d{{1,2}}[:.]\d{{2}}")
# ...must be this one: 7 Mar 2026 15:04.
ONE_FORMAT = re.compile(rf"\d{{1,2}} (?:{MONTHS}) \d{{4}} \d{{2}}:\d{{2}}")
TIME = re.compile(r"(?<![\d.:])\d{1,2}:\d{2}(?![\d:])")

NOT_BESIDE = """() => [...document.querySelectorAll("input[type=checkbox], input[type=radio]")]
  .filter(box => box.checkVisibility())
  .flatMap(box => {
    const b = box.getBoundingClientRect(), middle = (b.top + b.bottom) / 2;
    const labels = [...box.labels].filter(label => label.checkVisibility());
    if (!labels.length) return [`${box.name}: no label`];
    return labels.filter(label => {
      const line = label.getClientRects()[0];  // a label that wraps: its first line
      const level = line.top <= middle && middle <= line.bottom;
      const near = label.contains(box) || (line.left >= b.right - 1 && line.left - b.right <= 24);
      return !(level && near);
    }).map(label => `${box.name} “${label.innerText.trim()}”`);
  })"""


def times_full_stops_and_checkboxes(page, where):
    """The page's visible text and checkboxes; returns the date-times it shows."""
    text = page.locator("body").inner_text()
    assert not TWELVE_HOUR.search(text), f"{where}: a 12-hour time: {TWELVE_HOUR.search(text).group()!r}"
    stamps = DATE_TIME.findall(text)
    assert all(ONE_FORMAT.fullmatch(stamp) for stamp in stamps), f"{where}: date-times {stamps}"
    times = TIME.findall(text)
    assert all(re.fullmatch(r"\d{2}:\d{2}", time) for time in times), f"{where}: times {times}"
    assert ".." not in text, f"{where}: {text[max(0, text.index('..') - 60):text.index('..') + 3]!r}"
    assert page.evaluate(NOT_BESIDE) == [], f"{where}: checkboxes not beside their labels"
    return stamps


def in_the_afternoon(case, contact):
    """Every time the pages show, moved to the afternoon (and one to noon): a 12-hour format shows there."""
    afternoon = timezone.localtime().replace(hour=15, minute=4, second=0, microsecond=0)
    Contact.objects.filter(pk=contact.pk).update(created=afternoon.replace(hour=12, minute=0))
    Case.objects.filter(pk=case.pk).update(created=afternoon, consented_at=afternoon, withdrawn_at=afternoon)
    for n, event in enumerate(CaseEvent.objects.filter(case=case)):
        CaseEvent.objects.filter(pk=event.pk).update(at=afternoon + timedelta(minutes=n))
    HashingLink.objects.filter(case=case).update(created=afternoon)
    Item.objects.filter(case=case).update(created=afternoon)
    case.evidence.update(changed_at=afternoon)


def test_every_staff_page_of_the_call_shows_one_time_format_no_double_stops_and_checkboxes_beside_labels(
        browser, live_server, transactional_db):
    ensure_checklist()
    casey = make_staff("casey@helpline.test", "caseworker", name="Casey")
    context = signed_in_context(browser, live_server, casey, **LAPTOP)
    page = context.new_page()
    seen = {}

    def check(where):
        times_full_stops_and_checkboxes(page, where)
        seen[where] = page.url

    page.goto(live_server.url + "/")
    check("dashboard")
    page.locator("#main").get_by_role("link", name="Record a contact").click()
    check("intake")
    page.get_by_role("button", name="Record and open the case").click()  # nothing answered
    expect(page.get_by_text("Please answer this question.").first).to_be_visible()
    check("intake with errors")
    page.get_by_label("Phone").check()
    answer_yes_to_everything(page)
    page.get_by_label("Ongoing contact with the abuser").check()
    page.get_by_role("button", name="Record and open the case").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Case "))).to_be_visible()
    check("case page")
    page.get_by_role("button", name="Send a hashing link").click()
    code = page.locator("#link-code").inner_text()
    times_full_stops_and_checkboxes(page, "case page with a code")
    case, contact = Case.objects.get(), Contact.objects.get()
    assert submit(code.replace("-", ""), [image(1), video(2)]).status_code == 200
    expect(page.locator("[data-count=image]")).to_have_text("1")
    page.locator("#checklist").get_by_role("combobox").first.select_option("done")
    page.get_by_role("button", name="Save checklist").click()
    expect(page.locator("#timeline li").last).to_contain_text("Checklist updated")
    page.get_by_label("Add a note").fill("Caller is safe.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#notes")).to_contain_text("Caller is safe")
    page.get_by_text("Close or withdraw this case").click()
    check("case page, worked")
    page.get_by_role("link", name=f"Contact {contact.pk}").click()
    check("contact page")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cases").click()
    check("case list")
    page.goto(seen["case page"])
    page.get_by_text("Close or withdraw this case").click()
    withdrawal = page.locator("form", has=page.get_by_role("button", name="Withdraw for the caller"))
    withdrawal.get_by_label("Reason to withdraw").select_option("caller_asked")
    withdrawal.get_by_label(re.compile("Yes, withdraw")).check()
    withdrawal.get_by_role("button", name="Withdraw for the caller").click()
    expect(page.locator("#withdrawn-banner")).to_be_visible()
    check("case page, withdrawn")

    in_the_afternoon(case, contact)
    shown = {}
    for where in ("dashboard", "case page, withdrawn", "contact page", "case list"):
        page.goto(seen[where])
        shown[where] = times_full_stops_and_checkboxes(page, f"{where}, in the afternoon")
    assert shown["case page, withdrawn"] and shown["contact page"] and shown["dashboard"]
    page.goto(seen["case page, withdrawn"])
    expect(page.locator("#withdrawn-banner")).to_contain_text(re.compile(rf"on \d{{1,2}} (?:{MONTHS}) \d{{4}} 15:04\."))
    context.close()
