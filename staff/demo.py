"""Demo staff: one account per role, with fixed passwords and TOTP secrets (development only)."""

import base64
import hashlib

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Group, Permission

from staff import roles
from staff.models import User

DEMO_DOMAIN = "demo.helpline.invalid"
ACCOUNTS = [
    (roles.CASEWORKER, "caseworker", "Casey Worker"),
    (roles.SUPERVISOR, "supervisor", "Sam Supervisor"),
    (roles.PARTNER_MANAGER, "partners", "Pat Partners"),
    (roles.ADMINISTRATOR, "admin", "Alex Admin"),
]


def demo_password(role):
    return f"demo-{role}-password"


def demo_totp_secret(role):
    # Fixed per role so that re-running seed_demo keeps everyone's authenticator app working.
    return base64.b32encode(hashlib.sha256(f"ncii-demo-{role}".encode()).digest()[:20]).decode()


def seed():
    roles.sync_groups(Group, Permission)
    accounts = []
    for role, local, name in ACCOUNTS:
        email = f"{local}@{DEMO_DOMAIN}"
        user = User.objects.filter(email=email).first() or User.objects.create_user(email=email, name=name)
        user.set_password(demo_password(role))
        user.is_active = True
        user.save()
        user.groups.set(Group.objects.filter(name=role))
        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"primary": True, "verified": True})
        secret = demo_totp_secret(role)
        Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
        TOTP.activate(user, secret)
        accounts.append({"role": role, "email": email, "password": demo_password(role), "totp_secret": secret})
    return accounts

