"""Demo contacts and cases (development only): every channel, every case status, image and video items (with
and without vPDQ), shareable PDQ hashes, an under-18 contact with its referrals, checklists in every state,
referrals, notes, assigned and unassigned cases. Demo cases all have the PIN DEMO_PIN."""

import hashlib

from django.contrib.auth.hashers import make_password

from cases import actions
from cases.consent import CONSENT_KEYS, CONSENT_VERSION
from cases.models import Case, Contact
from hashing import signal_types
from staff import roles
from staff.models import User

DEMO_PIN = "2468 1357"
ELIGIBLE = {"in_content": True, "adult_in_content": True, "intimate": True, "has_files": True}


def fake(label, length):
    """A stable made-up hash value: demo data must look real and never change between runs."""
    return hashlib.sha256(f"ncii-demo-{label}".encode()).hexdigest()[:length]


def image_fingerprint(label, length):
    """Like fake, with half its bits set, as a real image's PDQ or pHash has at most (hashing.signal_types)."""
    half = fake(label, length // 2)
    return half + f"{int(half, 16) ^ (16 ** (length // 2) - 1):0{length // 2}x}"


def image_item(label, quality=90):
    return {"kind": "image", "md5": fake(f"{label}-md5", 32), "pdq": image_fingerprint(f"{label}-pdq", 64),
            "pdq_quality": quality, "phash": image_fingerprint(f"{label}-phash", 16)}


def video_item(label, seconds=0):
    """A video; with `seconds`, the vPDQ of that many frames (one a second) its browser computed, else MD5 only
    (a video the browser could not decode)."""
    item = {"kind": "video", "md5": fake(f"{label}-video", 32)}
    if seconds:
        item["vpdq"] = signal_types.vpdq_signal(
            signal_types.VpdqFrame(image_fingerprint(f"{label}-frame-{n}", 64), 85, float(n)) for n in range(seconds))
    return item


# (reference, channel, abuse type, final status, items)
CASES = [
    ("DEM000000001", Contact.Channel.PHONE, "shared", Case.Status.OPEN, []),
    ("DEM000000002", Contact.Channel.CHAT, "threatened", Case.Status.HASHES_SUBMITTED,
     [image_item("beach"), video_item("clip", seconds=12), image_item("screenshot", quality=35)]),
    ("DEM000000003", Contact.Channel.EMAIL, "sextortion", Case.Status.ACTIVE,
     [image_item("mirror"), image_item("bedroom"), video_item("call-recording")]),
    ("DEM000000004", Contact.Channel.IN_PERSON, "synthetic", Case.Status.WITHDRAWN,
     [image_item("deepfake"), video_item("deepfake-video", seconds=40)]),
    ("DEM000000005", Contact.Channel.SELF_SERVICE, "voyeurism", Case.Status.CLOSED,
     [image_item("changing-room"), image_item("beach")]),  # "beach" is also in case 2: one bank row
]


def work_on(case, caseworker):
    """Some casework: a checklist in every state, a referral, a note."""
    lines = list(case.evidence.all())
    for line, state in zip(lines, ["done", "done", "not_applicable"], strict=False):
        actions.answer_evidence(case, line.pk, state=state, note="demo" if state == "done" else "",
                                by=caseworker)
    actions.refer(case, "police", status="made", outcome="Crime reference DEMO/1", by=caseworker)
    actions.refer(case, "counselling", by=caseworker)
    actions.add_note(case, "Demo note: caller prefers contact by chat in the evening.", by=caseworker)


def seed():
    if Case.objects.filter(reference__startswith="DEM0").exists():
        return []
    caseworker = User.objects.with_role(roles.CASEWORKER).order_by("pk").first()
    supervisor = User.objects.with_role(roles.SUPERVISOR).order_by("pk").first()
    for reference, channel, abuse_type, status, items in CASES:
        by = None if channel == Contact.Channel.SELF_SERVICE else caseworker
        contact = actions.take_contact(by=by, channel=channel, abuse_type=abuse_type, **ELIGIBLE)
        case = actions.open_case(contact, by=by)
        Case.objects.filter(pk=case.pk).update(reference=reference)
        case.refresh_from_db()
        if items:
            _link, code = actions.issue_link(case, by=by)
            actions.submit_items(code, submission_id=f"demo-{reference}",
                                 consent={"version": CONSENT_VERSION, "confirmed": CONSENT_KEYS}, items=items)
            Case.objects.filter(pk=case.pk).update(pin_digest=make_password(DEMO_PIN.replace(" ", "")))
        if by is not None:
            work_on(case, caseworker)
        if status == Case.Status.WITHDRAWN:
            actions.withdraw_case(case)
        elif status == Case.Status.ACTIVE:
            actions.move_case(case, "activate", by=caseworker)
        elif status == Case.Status.CLOSED:
            Case.objects.filter(pk=case.pk).update(status=Case.Status.ACTIVE)
            actions.move_case(case, "close", by=supervisor, reason="resolved")
    # One unassigned case waiting for a supervisor (the self-service one has no caseworker either).
    actions.assign_case(Case.objects.get(reference="DEM000000001"), None, by=supervisor)
    actions.take_contact(by=caseworker, channel=Contact.Channel.PHONE, in_content=True, adult_in_content=False,
                         abuse_type="shared")
    actions.take_contact(by=caseworker, channel=Contact.Channel.CHAT, in_content=True, adult_in_content=True,
                         intimate=False)
    return []
