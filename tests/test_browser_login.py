"""A caseworker signs in with password and TOTP in a real browser, reaches the dashboard, signs out."""

import pyotp
import pytest

from staff import roles
from staff.demo import seed

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_caseworker(transactional_db):
    return next(account for account in seed() if account["role"] == roles.CASEWORKER)


def test_caseworker_signs_in_with_totp_and_out(live_server, page, demo_caseworker):
    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url  # anonymous: sent to sign in

    page.get_by_label("Email").fill(demo_caseworker["email"])
    page.get_by_label("Password").fill(demo_caseworker["password"])
    page.get_by_role("button", name="Sign In").click()

    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.get_by_label("Code").fill(pyotp.TOTP(demo_caseworker["totp_secret"]).now())
    page.get_by_role("button", name="Sign In").click()

    page.wait_for_url(live_server.url + "/")
    assert page.get_by_role("heading", name="Casework").is_visible()
    assert page.get_by_role("link", name="Staff").count() == 0  # not an administrator

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/**")
    if page.get_by_role("button", name="Sign Out").count():  # allauth confirms a sign-out started elsewhere
        page.get_by_role("button", name="Sign Out").click()
    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url
