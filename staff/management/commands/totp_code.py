import binascii
import time

from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = ("Print the current code of a TOTP secret, e.g. a demo account's from `make run` "
            "(for development; staff use an authenticator app).")
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("secret", help="the base32 TOTP secret")

    def handle(self, *args, secret, **options):
        counter = int(time.time()) // app_settings.TOTP_PERIOD
        try:
            code = hotp_value(secret.strip(), counter)
        except (binascii.Error, ValueError):
            raise CommandError("That is not a base32 TOTP secret (letters A–Z and digits 2–7).")
        self.stdout.write(format_hotp_value(code))
