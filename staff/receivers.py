"""Login and MFA events come from Django and allauth as signals; each is recorded in the audit log.

Receivers only record; anything with consequences lives in staff/actions.py.
"""

import time

from allauth.mfa import signals as mfa_signals
from django.contrib.auth import signals as auth_signals
from django.dispatch import receiver

from audit.actions import record
from staff.middleware import SEEN, STARTED


@receiver(auth_signals.user_logged_in)
def logged_in(sender, request, user, **kwargs):
    now = time.time()
    request.session[STARTED] = now
    request.session[SEEN] = now
    record("staff.login", actor=user, target=user, request=request)


@receiver(auth_signals.user_logged_out)
def logged_out(sender, request, user, **kwargs):
    if user is not None:
        record("staff.logout", actor=user, target=user, request=request)


@receiver(auth_signals.user_login_failed)
def login_failed(sender, credentials, request=None, **kwargs):
    # The attempted email is caller-free but still personal: record only that it failed, and its domain.
    email = str(credentials.get("email") or credentials.get("username") or "")
    record("staff.login_failed", request=request, actor_label="anonymous",
           details={"email_domain": email.rpartition("@")[2][:100]})


@receiver(mfa_signals.authenticator_added)
def authenticator_added(sender, request, user, authenticator, **kwargs):
    record("staff.mfa_added", actor=user, target=user, request=request, details={"type": authenticator.type})


@receiver(mfa_signals.authenticator_removed)
def authenticator_removed(sender, request, user, authenticator, **kwargs):
    record("staff.mfa_removed", actor=user, target=user, request=request, details={"type": authenticator.type})


@receiver(mfa_signals.authenticator_reset)
def authenticator_reset(sender, request, user, authenticator, **kwargs):
    record("staff.mfa_reset", actor=user, target=user, request=request, details={"type": authenticator.type})
