"""What administrators do to staff accounts. Each action is audited."""

from allauth.account.adapter import get_adapter
from allauth.account.forms import default_token_generator
from allauth.account.internal.flows.password_reset import get_reset_password_from_key_url
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from allauth.core import context as allauth_context
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.auth.models import Group
from django.db import transaction

from audit.actions import record
from staff.models import User


@transaction.atomic
def set_roles(user, role_names, *, by):
    before = sorted(user.roles)
    user.groups.set(Group.objects.filter(name__in=role_names))
    user.__dict__.pop("_roles", None)
    after = sorted(user.roles)
    if before != after:
        record("staff.roles_changed", actor=by, target=user, details={"before": before, "after": after})


def send_set_password_link(request, user, template="staff/email/invitation"):
    """Mails a set-password link (allauth's password-reset-from-key page, one use, time-limited)."""
    key = f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"
    # allauth reads the request from its context; this runs after the view's transaction commits.
    with allauth_context.request_context(request):
        context = {"user": user, "set_password_url": get_reset_password_from_key_url(request, key)}
        get_adapter(request).send_mail(template, user.email, context)


@transaction.atomic
def invite_staff(request, *, email, name, role_names, by):
    user = User.objects.create_user(email=email, name=name)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    set_roles(user, role_names, by=by)
    record("staff.invited", actor=by, target=user, details={"roles": sorted(role_names)})
    transaction.on_commit(lambda: send_set_password_link(request, user))
    return user


@transaction.atomic
def resend_invitation(request, user, *, by):
    record("staff.invitation_sent", actor=by, target=user)
    transaction.on_commit(lambda: send_set_password_link(request, user))


def end_sessions(user):
    for session in UserSession.objects.filter(user=user):
        session.end()


@transaction.atomic
def deactivate_staff(user, *, by):
    """Locks the account and ends every live session at once."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    end_sessions(user)
    record("staff.deactivated", actor=by, target=user)


@transaction.atomic
def reactivate_staff(user, *, by):
    user.is_active = True
    user.save(update_fields=["is_active"])
    record("staff.reactivated", actor=by, target=user)


@transaction.atomic
def reset_authenticators(request, user, *, by):
    """For a lost phone or key: removes every authenticator, and the password with them.

    Whoever found the phone may also know the password; without this, the password alone would lead to the
    enrolment page and a fresh authenticator of the finder's choosing. The person gets a new set-password link
    by email, then enrols again.
    """
    removed = sorted(Authenticator.objects.filter(user=user).values_list("type", flat=True))
    Authenticator.objects.filter(user=user).delete()
    user.set_unusable_password()
    user.save(update_fields=["password"])
    end_sessions(user)
    record("staff.mfa_reset_by_admin", actor=by, target=user, details={"removed": removed})
    transaction.on_commit(lambda: send_set_password_link(request, user, "staff/email/mfa_reset"))
