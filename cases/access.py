"""Who may see which case (design rule 6: every staff view of a case is audited).

Lists show a caseworker their own cases (opened or assigned to them); supervisors see all. Any caseworker may
open any case by its exact reference, giving a reason; the grant itself is an audit event (with the note, if any),
the reason holds for that case for GRANT_MINUTES in their session, and each page view is still one audit event.
"""

import time

from django.db.models import Q

from audit.actions import record
from cases.models import Case
from staff import roles

GRANTS_SESSION_KEY = "case_grants"
GRANT_MINUTES = 30
REASONS = [
    ("caller_called_back", "The caller contacted us again"),
    ("covering", "Covering for a colleague"),
    ("supervisor_asked", "A supervisor asked me to"),
    ("safeguarding", "Safeguarding concern"),
    ("other", "Other (add a note)"),
]


def sees_all(user):
    return user.has_role(roles.SUPERVISOR)


def listed_cases(user):
    if sees_all(user):
        return Case.objects.all()
    return Case.objects.filter(Q(caseworker=user) | Q(opened_by=user))


def is_own(user, case):
    return sees_all(user) or user.pk in (case.caseworker_id, case.opened_by_id)


def grant(request, case, reason, note=""):
    """Open a case not theirs for this person, for GRANT_MINUTES. Audited here, not at the first page view: the
    grant alone lets them poll the case and change it without ever rendering its page. The note goes with this
    audit row (purgeable, in AuditNote) and never into the session."""
    record("case.opened_by_reference", actor=request.user, target=case, details={"reason": reason}, note=note)
    grants = request.session.get(GRANTS_SESSION_KEY, {})
    grants[str(case.pk)] = {"reason": reason, "at": time.time()}
    request.session[GRANTS_SESSION_KEY] = grants


def current_grant(request, case):
    """The reason this person gave to open a case not theirs, while it holds; None otherwise."""
    entry = request.session.get(GRANTS_SESSION_KEY, {}).get(str(case.pk))
    if entry and time.time() - entry["at"] <= GRANT_MINUTES * 60:
        return entry
    return None


def may_work_on(request, case):
    return is_own(request.user, case) or current_grant(request, case) is not None
