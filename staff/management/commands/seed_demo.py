import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import import_string

# Each app that has demo data adds its seed function here, in dependency order.
SEEDERS = ["staff.demo.seed", "cases.demo.seed", "partners.demo.seed", "takedowns.demo.seed"]


class Command(BaseCommand):
    help = "Create demo staff and data (idempotent). Prints one JSON object per demo account."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo creates known passwords; it runs only with DEBUG=1.")
        with transaction.atomic():
            accounts = []
            for path in SEEDERS:
                accounts += import_string(path)() or []
        for account in accounts:
            self.stdout.write(json.dumps(account))
