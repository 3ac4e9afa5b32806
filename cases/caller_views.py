"""The caller's pages: open without a staff login (core/access.py), on a device someone else may hold.

Each is wrapped by cases.caller.caller_page (language, no-store, noindex, referrer policy).
"""

import json
import secrets
import time
from urllib.parse import urlsplit

from csp.decorators import csp_update
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cases import actions
from cases.caller import caller_page, picked_language, use_language
from cases.consent import CONSENT_ITEMS, consent_version
from cases.forms import CodeForm, SelfServiceForm, StatusForm
from cases.models import Case, HashingLink, Item, normalise_code
from cases.quotas import exceeded
from core.errors import Refusal
from hashing import signal_types

HOUR = 3600
STATUS_SESSION_KEY = "caller_case"
STATUS_MINUTES = 15  # how long a reference + PIN stay unlocked on this device
POST_ONLY = ("submit", "new_pin", "leave")  # caller URL names that are no page to go back to


def refusal(request, error, template="caller/refused.html"):
    return render(request, template, {"message": error.message}, status=error.status)


@caller_page
def enter_code(request):
    """The code the caseworker read out, typed in; leads to the hashing page."""
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        if exceeded(request, "code", settings.CALLER_CODE_TRIES_PER_IP_PER_HOUR, HOUR):
            form.add_error(None, _("Too many tries from this connection. Please wait an hour, or ask the helpline "
                                   "for help."))
            status = 429
        else:
            code = normalise_code(form.cleaned_data["code"])
            try:
                actions.find_link(code)
            except Refusal as error:
                form.add_error("code", error.message)
                status = error.status
            else:
                return redirect("caller:hash", code=code)
    elif request.method == "POST":
        status = 400
    return render(request, "caller/enter_code.html", {"form": form}, status=status)


def too_many_code_tries(request):
    """The code quota (one bucket for /h/ and the pages of a link), or None while it holds."""
    if exceeded(request, "code", settings.CALLER_CODE_TRIES_PER_IP_PER_HOUR, HOUR):
        return render(request, "caller/refused.html", {"message": _("Too many tries from this connection. Please "
                                                                    "wait an hour.")}, status=429)
    return None


@caller_page
def hash_files(request, code):
    """The page of a link: the hashing page, or for a new-PIN link the step before the new PIN."""
    refused = too_many_code_tries(request)
    if refused:
        return refused
    try:
        link = actions.find_link(code)
    except Refusal as error:
        return refusal(request, error)
    actions.note_link_opened(link)
    if link.language and not picked_language(request):
        use_language(request, link.language)  # the caseworker picked it on the call; the switch still works
    if link.purpose == HashingLink.Purpose.NEW_PIN:
        # Names this try, so that a retry after a lost answer is recognised (actions.reset_pin).
        return render(request, "caller/new_pin.html", {"code": code, "attempt": secrets.token_hex(16)})
    return hashing_page(request, code)


@csp_update({"img-src": ["blob:"], "media-src": ["blob:"]})  # thumbnails of the caller's own files, on the device
def hashing_page(request, code):
    return render(request, "caller/hash.html", {
        "submit_url": reverse("caller:submit", args=[code]),
        "consent_items": CONSENT_ITEMS,
        "consent_version": consent_version(request.LANGUAGE_CODE),
        "max_items": settings.CALLER_MAX_ITEMS_PER_SUBMISSION,
        "pdq_min_quality": signal_types.PDQ_MIN_QUALITY,
        "texts": caller_texts(),
    })


def caller_texts():
    """Words the page script shows, translated here (the script itself holds no text). The hasher's messages are
    English; the script shows these in their place, by the hasher's code for each (hashing/static/hashing/)."""
    return {
        "hashing": _("Making fingerprints…"),
        "ready": _("Ready"),
        "failed": _("This file could not be read."),
        "unreadable": _("This browser could not open this image, so only its exact fingerprint (MD5) will be "
                        "sent. It still blocks exact copies."),
        "low_quality": _("This image gives a weak fingerprint (quality %(quality)s of 100), so it will not be "
                         "shared. If you can, choose the original photo rather than a screenshot or a small copy."),
        "other_file": _("This is not an image or a video, so its fingerprint will not be shared with partner "
                        "websites. You can remove it."),
        "other_files": plural(lambda n: ngettext(
            "%(count)s chosen file is not an image or a video. Its fingerprint would be kept with your case but "
            "not shared with partner websites: you can remove it before sending.",
            "%(count)s chosen files are not images or videos. Their fingerprints would be kept with your case but "
            "not shared with partner websites: you can remove them before sending.", n)),
        "remove": _("Remove"),
        "preview": _("Preview of file %(number)s"),
        "progress": _("Progress for file %(number)s"),
        "ready_of": plural(lambda n: ngettext("%(ready)s of %(count)s file ready", "%(ready)s of %(count)s files ready",
                                              n)),
        "sending": _("Sending fingerprints…"),
        "network": _("The fingerprints could not be sent. Please check your connection and try again."),
        "too_many": ngettext("Please choose at most %(limit)s file at a time.",
                             "Please choose at most %(limit)s files at a time.",
                             settings.CALLER_MAX_ITEMS_PER_SUBMISSION),
        "why_consent": _("Tick all four statements above first."),
        "why_no_files": _("Choose at least one file first."),
        "why_hashing": _("Wait until every file is ready."),
        "why_none_ready": _("None of the chosen files could be read. Please choose other files."),
        "kind_image": _("Image"),
        "kind_video": _("Video"),
        "kind_file": _("Other file"),
        "added": _("Your files were added to your case. Use the PIN you were given the first time."),
        "copy_failed": _("This browser could not copy it. It is selected: copy it yourself, or write it down."),
        # hashFile's rejections, by error.code
        "errors": {
            "read": _("The file could not be read. It may have been moved, deleted or changed while it was being "
                      "checked. Please choose it again."),
            "memory": _("There was not enough memory to check this file."),
            "other": _("This file could not be checked. Please try again, or choose a different file."),
            "crashed": _("This browser stopped while checking the file. Please close other tabs and try again, or "
                         "use an up-to-date browser."),
            "not_passed": _("The file could not be passed to the checker. Please try again."),
            "no_file": _("Please choose a file to check."),
            "no_worker": _("This browser cannot check files here. Please use an up-to-date browser."),
        },
        # hashFile's warnings (only the MD5 was made), by warningCode
        "warnings": {
            "failed": _("This image could not be processed in this browser, so only its exact fingerprint (MD5) "
                        "was made."),
            "cannot_open": _("This browser could not open this image (it may be damaged, or in a format this "
                             "browser does not support), so only the file's exact fingerprint (MD5) was made. "
                             "Opening it in another browser, or saving it as JPEG or PNG, may allow a full set of "
                             "fingerprints."),
            "too_large": _("This image is too large to process here (%(width)s × %(height)s pixels), so only its "
                           "exact fingerprint (MD5) was made. A smaller copy of the image can be added as well."),
            "changed": _("This browser changed the image while opening it (for example rotated it), so only the "
                         "file's exact fingerprint (MD5) was made."),
            "unusual": _("This image is stored in an unusual way that cannot be processed here, so only its exact "
                         "fingerprint (MD5) was made."),
            "memory": _("There was not enough memory to process this image, so only its exact fingerprint (MD5) "
                        "was made."),
            # Videos (hashing/static/hashing/video.js): a codec this browser lacks is named; any other reason a
            # video keeps its MD5 only is shown as video_failed.
            "video_codec": _("This browser cannot decode this video (%(codec)s), so only its exact fingerprint "
                             "(MD5) was made. Another browser, or a copy saved as H.264 MP4, may allow a full "
                             "fingerprint."),
            "video_failed": _("This video could not be processed in this browser, so only its exact fingerprint "
                              "(MD5) was made."),
        },
    }


PLURAL_TABLE = 200  # see plural()


def plural(message):
    """A count's message for the page script, in this language's plural forms: {forms, index}, where the form for
    n is forms[index[n]] for n < 200 and forms[index[100 + n % 100]] beyond. Every plural rule of a shipped
    language depends on n only through n itself below 100 and n % 100 (and n % 10) above it, so 200 entries
    cover every n (tests/test_translations.py checks this against gettext up to 1000)."""
    texts = [message(n) for n in range(PLURAL_TABLE)]
    forms = list(dict.fromkeys(texts))
    return {"forms": forms, "index": [forms.index(text) for text in texts]}


def json_error(message, status):
    return JsonResponse({"error": message}, status=status)


@caller_page
@require_POST
def submit(request, code):
    """Hashes only, as JSON. Anything else (a form, a file upload, an oversized body) is refused unread."""
    if request.content_type != "application/json":
        return json_error(_("Only fingerprints are accepted here, as JSON. Files are never uploaded."), 415)
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    if length > settings.CALLER_SUBMIT_MAX_BYTES:
        return json_error(_("Too much data in one go. Please send fewer files at a time."), 413)
    if exceeded(request, "submit", settings.CALLER_SUBMISSIONS_PER_IP_PER_HOUR, HOUR):
        return json_error(_("Too many submissions from this connection. Please wait an hour, or call the "
                            "helpline."), 429)
    body = request.read(settings.CALLER_SUBMIT_MAX_BYTES + 1)
    if len(body) > settings.CALLER_SUBMIT_MAX_BYTES:
        return json_error(_("Too much data in one go. Please send fewer files at a time."), 413)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return json_error(_("The page sent something unreadable. Please reload it and try again."), 400)
    if not isinstance(payload, dict):
        return json_error(_("The page sent something unreadable. Please reload it and try again."), 400)
    try:
        case, pin = actions.submit_items(code, submission_id=payload.get("submission_id"),
                                         consent=payload.get("consent"), items=payload.get("items"))
    except Refusal as error:
        return json_error(error.message, error.status)
    return JsonResponse({
        "reference": case.display_reference,
        "pin": actions.format_pin(pin) if pin else None,  # None: added to a case whose PIN the caller has
        "items": case.items.count(),
        "status_url": reverse("caller:status"),
    })


@caller_page
@require_POST
def new_pin(request, code):
    """The new PIN of a new-PIN link: made here, shown in this answer only, on the caller's device."""
    refused = too_many_code_tries(request)
    if refused:
        return refused
    try:
        case, pin = actions.reset_pin(code, attempt=request.POST.get("attempt"))
    except Refusal as error:
        return refusal(request, error)
    return render(request, "caller/new_pin.html", {"case": case, "pin": actions.format_pin(pin)})


@caller_page
def start(request):
    """Self-service: the eligibility questions, then a link for this very device."""
    form = SelfServiceForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        if exceeded(request, "self-service", settings.CALLER_CASES_PER_IP_PER_DAY, 24 * HOUR):
            form.add_error(None, _("Too many new cases from this connection today. Please call the helpline."))
            status = 429
        else:
            answers = {k: v for k, v in form.cleaned_data.items() if v is not None}
            contact, code = actions.start_self_service(language=request.LANGUAGE_CODE, **answers)
            if code and contact.immediate_danger:
                # The emergency route first; the hashing page is one step on.
                return render(request, "caller/danger.html", {"hash_url": reverse("caller:hash", args=[code])})
            if code:
                return redirect("caller:hash", code=code)
            return render(request, "caller/not_eligible.html", {"contact": contact})
    elif request.method == "POST":
        status = 400
    return render(request, "caller/start.html", {"form": form}, status=status)


def unlocked_case(request):
    """The case this device unlocked with reference + PIN in the last STATUS_MINUTES, or None."""
    entry = request.session.get(STATUS_SESSION_KEY)
    if not entry or time.time() - entry.get("at", 0) > STATUS_MINUTES * 60:
        request.session.pop(STATUS_SESSION_KEY, None)
        return None
    return Case.objects.filter(pk=entry.get("case")).first()


@caller_page
def status(request):
    form = StatusForm(request.POST or None)
    code = 200
    if request.method == "POST" and form.is_valid():
        if exceeded(request, "status", settings.CALLER_STATUS_CHECKS_PER_IP_PER_HOUR, HOUR):
            form.add_error(None, _("Too many tries from this connection. Please wait an hour."))
            code = 429
        else:
            try:
                case = actions.unlock_case(form.cleaned_data["reference"], form.cleaned_data["pin"])
            except Refusal as error:
                form.add_error(None, error.message)
                code = error.status
            else:
                request.session.cycle_key()
                request.session[STATUS_SESSION_KEY] = {"case": case.pk, "at": time.time()}
                return redirect("caller:case")
    elif request.method == "POST":
        code = 400
    return render(request, "caller/status.html", {"form": form}, status=code)


@caller_page
def case_status(request):
    case = unlocked_case(request)
    if case is None:
        return redirect("caller:status")
    return render(request, "caller/case.html", {"case": case, "counts": case.item_counts(),
                                                "items": case.items.with_sharing(), "kinds": Item.Kind})


@csrf_exempt  # sent by navigator.sendBeacon, which cannot carry a token; it can only end this visit
@caller_page
@require_POST
def leave(request):
    """The quick exit: forget this visit (an unlocked case, the language) before the page leaves."""
    request.session.flush()
    return HttpResponse(status=204)


@caller_page
def cover_tracks(request):
    """What the site does to leave no trace on the device, what it cannot do, and what the caller can do."""
    return render(request, "caller/cover_tracks.html", {"back": came_from(request)})


def came_from(request):
    """The caller page this one was opened from (by its Referer, our own site only), for a way back that adds no
    history entry (the browser's Back leaves the site: one_entry.js); else the start page."""
    referer = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        path = urlsplit(referer).path
        try:
            match = resolve(path)
        except Resolver404:
            match = None
        if match and match.namespace == "caller" and match.url_name not in ("cover_tracks", *POST_ONLY):
            return path
    return reverse("caller:start")


@caller_page
def withdraw(request):
    case = unlocked_case(request)
    if case is None:
        return redirect("caller:status")
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        actions.withdraw_case(case)
        return redirect("caller:case")
    return render(request, "caller/withdraw.html", {"case": case})
