from django.core.management.base import BaseCommand

from stats import keeping


class Command(BaseCommand):
    help = "Recompute every statistics rollup from the records (docs/statistics.md)."

    def handle(self, *args, **options):
        keeping.rebuild()
        self.stdout.write("Statistics rebuilt.")
