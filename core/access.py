"""The one place that says which routes are open without a staff login with MFA.

staff.middleware.StaffAccessMiddleware closes every other route; tests/test_access.py walks the URL
resolver and proves it. Add a route here only if a person without a staff account must reach it.
"""

# Login, password reset from an invitation or reset mail, and the MFA step of login.
ACCOUNT_URL_NAMES = {
    "account_login",
    "account_logout",
    "account_signup",  # shows "sign-up is closed"
    "account_inactive",
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "mfa_authenticate",
}

PUBLIC_URL_NAMES = ACCOUNT_URL_NAMES | {"healthz"}

# Whole namespaces open to the public: the caller's pages and the partner API (it has its own key auth).
PUBLIC_NAMESPACES = {"caller", "api"}

# Pages a signed-in staff member without an authenticator may use: setting one up, and leaving.
ENROLMENT_URL_NAMES = {
    "account_logout",
    "mfa_index",
    "mfa_activate_totp",
    "mfa_add_webauthn",
    "mfa_generate_recovery_codes",
    "mfa_view_recovery_codes",
    "mfa_download_recovery_codes",
    "account_reauthenticate",
    "mfa_reauthenticate",
}

# Static files are served by WhiteNoise before URL resolution; listed for the URL walk.
PUBLIC_PATH_PREFIXES = ("/static/",)


def is_public(match):
    if match is None:
        return False
    if match.url_name in PUBLIC_URL_NAMES and not match.namespace:
        return True
    return bool(match.namespaces) and match.namespaces[0] in PUBLIC_NAMESPACES
