"""What a caseworker does to have a case's images taken down where they are, and what beat does for them: file
web addresses under their sites, keep the site directory, send takedown requests (by mail after commit, or
recorded as sent through a web form), record each address's outcome, follow overdue requests up.

Each operation runs in one transaction with its audit rows. Audit rows hold counts and ids, never an address
(design rule 11); neither do log lines.
"""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Max
from django.dispatch import Signal
from django.template.loader import render_to_string
from django.utils import timezone

from audit.actions import record
from cases.actions import note_takedown_step
from cases.models import Case
from core.errors import Refusal
from partners import addresses as partner_addresses
from takedowns import normalise
from takedowns.models import Address, AddressOutcome, Site, TakedownRequest

logger = logging.getLogger(__name__)

MAX_LINES = 500  # a paste longer than this is refused whole: split it


# --- Web addresses ----------------------------------------------------------------------------------------


def open_for_takedowns(case):
    """The case, locked (its takedown work goes one change at a time) and read afresh: refused if withdrawn."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status == Case.Status.WITHDRAWN:
        raise Refusal("This case was withdrawn: no web addresses are added or asked for on it.", status=409)
    return case


def sites_for(domains):
    """{domain: Site}, adding to the directory the domains it does not hold yet (named by their domain, to be
    described before a request is sent)."""
    domains = set(domains)
    Site.objects.bulk_create([Site(domain=d, name=d) for d in domains], ignore_conflicts=True)
    return {site.domain: site for site in Site.objects.filter(domain__in=domains)}


class Pasted:
    """What a paste did: addresses added, repeats merged (within the paste and with the case's own), and the
    lines that are not addresses, each with why: [(line number, line, why)]."""

    def __init__(self, added, merged, problems):
        self.added, self.merged, self.problems = added, merged, problems


@transaction.atomic
def add_addresses(case, text, *, by):
    """File the pasted addresses under the case and their sites. Every valid line is kept whatever the others
    hold; the ones that are not addresses come back with a reason each."""
    case = open_for_takedowns(case)
    if len(text.splitlines()) > MAX_LINES:
        raise Refusal(f"Paste at most {MAX_LINES} lines at a time; nothing was added.", field="addresses")
    found, problems, repeats = normalise.parse(text)
    if not found and not problems:
        raise Refusal("Paste the web addresses, one on each line.", field="addresses")
    known = set(case.web_addresses.live().filter(url__in=[url for url, _domain in found])
                .values_list("url", flat=True))
    new = [(url, domain) for url, domain in found if url not in known]
    sites = sites_for(domain for _url, domain in new)
    now = timezone.now()
    added = Address.objects.bulk_create([Address(case=case, site=sites[domain], url=url, added=now, added_by=by)
                                         for url, domain in new])
    record("case.web_addresses_added", actor=by, target=case, details={
        "added": len(added), "merged": repeats + len(known), "not_addresses": len(problems),
        "sites": len({a.site_id for a in added})})
    return Pasted(added, repeats + len(known), problems)


@transaction.atomic
def remove_address(address, *, by):
    """An address added by mistake, while no request has named it."""
    if address.requests.exists():
        raise Refusal("A request has named this address: record its outcome instead.", status=409)
    record("case.web_address_removed", actor=by, target=address.case, details={"site": address.site_id})
    address.delete()


# --- The site directory -----------------------------------------------------------------------------------


def site_domain(text):
    """The registrable domain a typed domain (or web address) belongs to; Refusal if it has none."""
    try:
        return normalise.normalise(text)[1]
    except normalise.NotAnAddress as why:
        raise Refusal(f"That is not a website's domain: {why}.", field="domain") from None


@transaction.atomic
def save_site(site, *, by, **fields):
    """Add a site to the directory (site None) or change one. Its domain is the registrable domain of what was
    typed; a domain is in the directory once."""
    domain = site_domain(fields.pop("domain")) if "domain" in fields else site.domain
    if Site.objects.filter(domain=domain).exclude(pk=site.pk if site else None).exists():
        raise Refusal(f"{domain} is in the directory already.", field="domain", status=409)
    site = site or Site()
    site.domain = domain
    for name, value in fields.items():
        setattr(site, name, value)
    if site.partner_id and site.kind == Site.Kind.OTHER:
        site.kind = Site.Kind.PARTNER
    if site.hosting_provider_id and site.hosting_provider_id == site.pk:
        raise Refusal("A site cannot be its own hosting provider.", field="hosting_provider")
    new = site.pk is None
    site.save()
    record("site.added" if new else "site.changed", actor=by, target=site)
    return site


# --- Requests -----------------------------------------------------------------------------------------------


def due(now):
    return now + timedelta(hours=settings.TAKEDOWN_FOLLOW_UP_HOURS)


# Sent after commit when a mail request is queued: takedowns.tasks receives it (TakedownsConfig.ready) and asks a
# worker to send it, so these actions never import the tasks that call them.
mail_queued = Signal()


@transaction.atomic
def request_takedown(case, site, addresses, *, method, basis, statement="", by, kind=TakedownRequest.Kind.REQUEST,
                     follows=None):
    """Ask `site` to remove these addresses of the case. By mail: written now, sent after commit by Celery
    (takedowns.tasks), retried if the mail cannot go. Through the site's web form: the caseworker did it, so it
    is recorded as sent now. Either way it falls due TAKEDOWN_FOLLOW_UP_HOURS after it went."""
    case = open_for_takedowns(case)
    if method not in TakedownRequest.Method.values:
        raise Refusal("Choose how the request goes: by mail or through the site's web form.", field="method")
    if basis not in TakedownRequest.Basis.values:
        raise Refusal("Choose what the request relies on.", field="basis")
    if len(statement) > TakedownRequest.STATEMENT_LENGTH:
        raise Refusal(f"The statement is longer than {TakedownRequest.STATEMENT_LENGTH} characters.",
                      field="statement")
    addresses = list(addresses)
    if not addresses:
        raise Refusal("Choose the addresses to ask for.", field="addresses")
    if any(a.case_id != case.pk for a in addresses) or (kind == TakedownRequest.Kind.REQUEST
                                                         and any(a.site_id != site.pk for a in addresses)):
        raise Refusal("Those addresses are not this case's on this site.", field="addresses", status=404)
    if any(a.outcome == Address.Outcome.REMOVED or a.purged_at for a in addresses):
        raise Refusal("Some of those addresses are removed already: leave them out.", field="addresses")
    if method == TakedownRequest.Method.PARTNER and (kind != TakedownRequest.Kind.REQUEST or site.partner is None):
        raise Refusal(f"{site.name} is not a partner's site: ask it by mail or through its web form.",
                      field="method", status=409)
    if method == TakedownRequest.Method.MAIL and not site.abuse_email:
        raise Refusal(f"The directory has no abuse mail address for {site.name}: add it on the site's page, or "
                      "send the request through its web form and record it here.", field="method", status=409)
    now = timezone.now()
    request = TakedownRequest.objects.create(
        case=case, site=site, kind=kind, follows=follows, method=method, basis=basis, statement=statement.strip(),
        to_email=site.abuse_email if method == TakedownRequest.Method.MAIL else "", created=now, created_by=by,
        next_attempt_at=now)
    request.addresses.set(addresses)
    if follows is not None:
        TakedownRequest.objects.filter(pk=follows.pk).update(followed_up_at=now)
    record("takedown.requested", actor=by, target=case, details={
        "request": request.pk, "site": site.pk, "addresses": len(addresses), "method": method, "basis": basis,
        "kind": kind, "statement": bool(request.statement)})
    if method == TakedownRequest.Method.PARTNER:
        # To that partner alone, through its feed (design rule 11): it reads them at its next fetch.
        partner_addresses.share(site.partner, case, [(a.pk, a.url) for a in addresses])
    if method in (TakedownRequest.Method.WEB_FORM, TakedownRequest.Method.PARTNER):
        mark_sent(request, now, by=by)
    else:
        transaction.on_commit(lambda: mail_queued.send(sender=TakedownRequest, request_id=request.pk), robust=True)
    return request


def mark_sent(request, now, by=None):
    """The request went: it falls due, its addresses wait for the site's answer (the first request naming one
    starts its time to removal), and the case's timeline shows it."""
    request.state, request.sent_at, request.due_at = TakedownRequest.State.SENT, now, due(now)
    request.last_error, request.next_attempt_at = "", None
    request.save(update_fields=["state", "sent_at", "due_at", "last_error", "next_attempt_at"])
    addresses = request.addresses.askable()
    addresses.filter(first_asked_at=None).update(first_asked_at=now)
    asked = AddressOutcome.objects.bulk_create([AddressOutcome(
        address=a, request=request, outcome=Address.Outcome.ASKED, at=now, recorded=now) for a in addresses])
    addresses.update(outcome=Address.Outcome.ASKED, outcome_at=now)
    timeline_step(request, "sent", len(asked), by=by)


def timeline_step(request, step, addresses, by=None):
    note_takedown_step(request.case, step, by=by, request=request.reference, what=request.get_kind_display(),
                       site=request.site.name, method=request.get_method_display().lower(), addresses=addresses)


def compose(request):
    """The mail: in the helpline's name, quoting the request's own number (never the case's reference), naming
    the addresses and the legal basis chosen, with the caseworker's statement only if they wrote one."""
    addresses = list(request.addresses.live().order_by("url").values_list("url", flat=True))
    context = {"request": request, "site": request.site, "addresses": addresses, "helpline": settings.SITE_NAME,
               "hours": f"{settings.TAKEDOWN_FOLLOW_UP_HOURS:g}", "original": request.follows,
               "hosted_site": request.follows.site if request.follows else None}
    subject = render_to_string("takedowns/mail/subject.txt", context).strip()
    body = render_to_string(f"takedowns/mail/{request.kind}.txt", context)
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [request.to_email],
                        reply_to=[settings.DEFAULT_FROM_EMAIL]), addresses


def deliver(request_id):
    """Send one queued mail request (the Celery task, and beat's re-drive, call this). Returns the seconds
    before it should be tried again after a failure, or None (sent, failed for good, or not ours to send now).
    The row stays locked while the mail goes, so two workers never both send it."""
    with transaction.atomic():
        now = timezone.now()
        request = (TakedownRequest.objects.select_for_update(skip_locked=True, of=("self",))
                   .select_related("site", "follows__site")
                   .filter(pk=request_id, state=TakedownRequest.State.QUEUED, next_attempt_at__lte=now).first())
        if request is None:
            return None
        message, addresses = compose(request)
        if not addresses:  # retention cleared them while it waited
            return give_up(request, "no addresses left")
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as error:
            # The failure's kind only: an SMTP answer can quote the message.
            logger.warning("takedown request %s: the mail could not be sent (%s)", request.pk, type(error).__name__)
            return failed_attempt(request, type(error).__name__, now)
        mark_sent(request, now)
        record("takedown.sent", actor_label="system", target=request.case, details={"request": request.pk})
    return None


def failed_attempt(request, error, now):
    schedule = settings.TAKEDOWN_MAIL_RETRY_SCHEDULE
    request.attempts += 1
    request.last_error = error[:100]
    if request.attempts > len(schedule):
        return give_up(request, request.last_error)
    wait = schedule[request.attempts - 1]
    request.next_attempt_at = now + timedelta(seconds=wait)
    request.save(update_fields=["attempts", "last_error", "next_attempt_at"])
    return wait


def give_up(request, error):
    request.state, request.last_error, request.next_attempt_at = TakedownRequest.State.FAILED, error[:100], None
    request.save(update_fields=["state", "last_error", "next_attempt_at", "attempts"])
    timeline_step(request, "failed", request.addresses.live().count())
    record("takedown.failed", actor_label="system", target=request.case, details={"request": request.pk})
    return None


@transaction.atomic
def send_again(request, *, by):
    """A failed mail request, queued again from the start of its retry schedule (the site's address may have
    been corrected in the directory since)."""
    request = TakedownRequest.objects.select_for_update(of=("self",)).select_related("site").get(pk=request.pk)
    if request.state != TakedownRequest.State.FAILED:
        raise Refusal("Only a failed request is sent again.", status=409)
    if not request.site.abuse_email:
        raise Refusal(f"The directory has no abuse mail address for {request.site.name}.", status=409)
    request.state, request.attempts, request.next_attempt_at = TakedownRequest.State.QUEUED, 0, timezone.now()
    request.to_email = request.site.abuse_email
    request.save(update_fields=["state", "attempts", "next_attempt_at", "to_email"])
    record("takedown.send_again", actor=by, target=request.case, details={"request": request.pk})
    transaction.on_commit(lambda: mail_queued.send(sender=TakedownRequest, request_id=request.pk), robust=True)
    return request


# --- Outcomes and follow-ups ---------------------------------------------------------------------------------


@transaction.atomic
def record_outcome(case, addresses, outcome, *, reason="", at=None, by, partner=None):
    """What became of these addresses, and when (not in the future; by default now): removed, refused with the
    site's reason, no answer, or back up after a removal. Recorded by a caseworker (`by`), or reported by the
    partner whose feed carried them (`partner`)."""
    now = timezone.now()
    at = at or now
    addresses = list(addresses)
    if outcome not in Address.RECORDED:
        raise Refusal("Choose what became of the addresses.", field="outcome")
    if not addresses:
        raise Refusal("Choose the addresses the outcome is about.", field="addresses")
    if any(a.case_id != case.pk or a.purged_at for a in addresses):
        raise Refusal("Those addresses are not this case's.", field="addresses", status=404)
    if at > now + timedelta(minutes=1):
        raise Refusal("An outcome cannot be in the future.", field="at")
    reason = reason.strip()
    if outcome == Address.Outcome.REFUSED and not reason:
        raise Refusal("Give the site's reason for refusing.", field="reason")
    if len(reason) > AddressOutcome.REASON_LENGTH:
        raise Refusal(f"Keep the reason under {AddressOutcome.REASON_LENGTH} characters.", field="reason")
    if outcome == Address.Outcome.REINSTATED and any(a.outcome != Address.Outcome.REMOVED for a in addresses):
        raise Refusal("Only an address that was removed can be back up.", field="outcome")
    if any(a.first_asked_at and at < a.first_asked_at for a in addresses):
        raise Refusal("That is before the address was first asked for.", field="at")
    latest = dict(TakedownRequest.addresses.through.objects.filter(address__in=addresses)
                  .values("address").annotate(last=Max("takedownrequest")).values_list("address", "last"))
    AddressOutcome.objects.bulk_create([
        AddressOutcome(address=a, request_id=latest.get(a.pk), outcome=outcome,
                       reason=reason if outcome == Address.Outcome.REFUSED else "", at=at, recorded_by=by,
                       recorded=now) for a in addresses])
    Address.objects.filter(pk__in=[a.pk for a in addresses]).update(
        outcome=outcome, outcome_at=at, removed_at=at if outcome == Address.Outcome.REMOVED else None,
        suggested_at=None)
    note_takedown_step(case, "outcome", by=by, outcome=Address.Outcome(outcome).label, addresses=len(addresses),
                       dated=at.isoformat() if now - at > timedelta(minutes=5) else "",
                       **({"partner": partner.name} if partner else {}))
    record("takedown.outcome_recorded", actor=by, actor_label="partner" if partner else "", target=case,
           details={"outcome": outcome, "addresses": len(addresses), **({"partner": partner.pk} if partner else {})})


def mark_overdue(now=None):
    """Beat: requests past their due date with addresses still waiting show in their caseworker's "for your
    attention" (ncii_portal.dashboard) until they are followed up."""
    now = now or timezone.now()
    return TakedownRequest.objects.overdue(now).filter(overdue_at=None).update(overdue_at=now)


def still_waiting(request):
    return request.addresses.live().filter(outcome__in=(Address.Outcome.ASKED, Address.Outcome.NO_ANSWER))


@transaction.atomic
def remind(request, *, method, by):
    """A reminder to the same site for the addresses still waiting; it has its own due date."""
    original = followable(request)
    return request_takedown(original.case, original.site, still_waiting(original), method=method,
                            basis=original.basis, statement=original.statement, by=by,
                            kind=TakedownRequest.Kind.REMINDER, follows=original)


@transaction.atomic
def escalate(request, *, hosting_domain="", by):
    """The addresses still waiting, to the site's hosting provider (the directory's, or the domain typed, which
    then becomes the site's hosting provider), by mail."""
    original = followable(request)
    site = original.site
    host = site.hosting_provider
    if hosting_domain.strip():
        host = sites_for([site_domain(hosting_domain)]).popitem()[1]
        if host.pk == site.pk:
            raise Refusal("That is the site itself: give its hosting provider's domain.", field="hosting_domain")
        if host.kind == Site.Kind.OTHER:
            Site.objects.filter(pk=host.pk).update(kind=Site.Kind.HOSTING)
        Site.objects.filter(pk=site.pk).update(hosting_provider=host)
    if host is None:
        raise Refusal(f"The directory does not say who hosts {site.name}: give the hosting provider's domain.",
                      field="hosting_domain")
    return request_takedown(original.case, host, still_waiting(original), method=TakedownRequest.Method.MAIL,
                            basis=original.basis, statement=original.statement, by=by,
                            kind=TakedownRequest.Kind.ESCALATION, follows=original)


def followable(request):
    request = TakedownRequest.objects.select_for_update(of=("self",)).select_related(
        "case", "site__hosting_provider").get(pk=request.pk)
    if request.state != TakedownRequest.State.SENT:
        raise Refusal("Only a request that was sent is followed up.", status=409)
    if request.followed_up_at:
        raise Refusal("This request was followed up already: follow up the newer one.", status=409)
    if not still_waiting(request).exists():
        raise Refusal("Every address of this request has an answer: nothing to follow up.", status=409)
    return request


def checked(address, status, now=None):
    """The check's HTTP status for an address (takedowns.checks): a 404 or 410 suggests it is gone, for the
    caseworker to confirm by recording the outcome."""
    now = now or timezone.now()
    gone = status in (404, 410) and address.outcome in (Address.Outcome.ASKED, Address.Outcome.NO_ANSWER,
                                                        Address.Outcome.REFUSED, Address.Outcome.REINSTATED)
    Address.objects.filter(pk=address.pk).update(
        check_status=status, checked_at=now, suggested_at=(address.suggested_at or now) if gone else None)


# --- A partner's reports on its own addresses ------------------------------------------------------------------

# What a partner's report on an address sent through its feed records (partners.addresses.REPORTABLE):
# PendingReview records nothing yet.
REPORTED = {"Removed": Address.Outcome.REMOVED, "Blocked": Address.Outcome.REMOVED,
            "NotBlocked": Address.Outcome.REFUSED}
REPORTED_REASON = "The partner judged it not intimate images shared without consent (NotBlocked)."


def partner_reported(sender, partner, address_id, value, acted_at, **kwargs):
    """partners.addresses.address_reported, in the partner's reporting transaction: the address's outcome, dated
    by the partner's time (never before the address was first asked for, nor ahead of now). A report repeating
    the address's outcome changes nothing."""
    outcome = REPORTED.get(value)
    address = Address.objects.live().select_related("case").filter(pk=address_id).first()
    if outcome is None or address is None or address.outcome == outcome:
        return
    now = timezone.now()
    at = min(max(acted_at or now, address.first_asked_at or now), now)
    record_outcome(address.case, [address], outcome, at=at, by=None, partner=partner,
                   reason=REPORTED_REASON if outcome == Address.Outcome.REFUSED else "")
