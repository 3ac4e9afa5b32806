from django.core.management.base import BaseCommand

from audit.purge import purge_expired_events


class Command(BaseCommand):
    help = "Delete audit events older than AUDIT_RETENTION_DAYS (run as the table owner)."

    def handle(self, *args, **options):
        self.stdout.write(f"Deleted {purge_expired_events()} expired audit events.")
