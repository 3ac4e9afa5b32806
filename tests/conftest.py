"""Personas and shared fixtures. One test module per behaviour; these are reused across them."""

import os

import pyotp
import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache

from staff import roles
from staff.models import User

PASSWORD = "correct horse battery staple"


def make_staff(email, *role_names, mfa=True, name=""):
    roles.sync_groups(Group, Permission)  # a transactional test's flush removes what migrations created
    user = User.objects.create_user(email=email, password=PASSWORD, name=name)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    user.groups.set(Group.objects.filter(name__in=role_names))
    if mfa:
        user.totp_secret = pyotp.random_base32()
        TOTP.activate(user, user.totp_secret)
    return user


@pytest.fixture(autouse=True)
def fresh_cache():
    # Rate limits and used TOTP codes live in the cache; each test starts clean.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def caseworker(db):
    return make_staff("casey@helpline.test", roles.CASEWORKER, name="Casey")


@pytest.fixture
def supervisor(db):
    return make_staff("sam@helpline.test", roles.SUPERVISOR, name="Sam")


@pytest.fixture
def partner_manager(db):
    return make_staff("pat@helpline.test", roles.PARTNER_MANAGER, name="Pat")


@pytest.fixture
def administrator(db):
    return make_staff("alex@helpline.test", roles.ADMINISTRATOR, name="Alex")


@pytest.fixture
def newcomer(db):
    """Signed up through an invitation, has a password, has not set up an authenticator yet."""
    return make_staff("new@helpline.test", roles.CASEWORKER, mfa=False)


@pytest.fixture
def personas(caseworker, supervisor, partner_manager, administrator):
    return {
        roles.CASEWORKER: caseworker,
        roles.SUPERVISOR: supervisor,
        roles.PARTNER_MANAGER: partner_manager,
        roles.ADMINISTRATOR: administrator,
    }


def client_for(client_class, user):
    client = client_class()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def login_as(client):
    """A test client signed in as `user` (after MFA): login_as(user)."""
    from django.test import Client

    return lambda user: client_for(Client, user)


def totp_now(user):
    return pyotp.TOTP(user.totp_secret).now()


# --- Browser -----------------------------------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls tests make around it are safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()
