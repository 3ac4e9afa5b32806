import json

from django.core.management.base import BaseCommand, CommandError

from core.errors import Refusal
from partners import webhooks
from partners.models import Partner

ACTOR = "command:partner_webhook"


class Command(BaseCommand):
    help = ('Point partner SLUG\'s push at URL (public https; loopback only where WEBHOOK_ALLOW_LOOPBACK '
            'allows) and print {"partner", "url", "secret"}: the Standard Webhooks signing secret, shown only '
            "here. A live partner then receives every hash it may hold now, then changes; one in integration "
            "receives test events only until it goes live.")

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--url", required=True)

    def handle(self, *args, slug, url, **options):
        partner = Partner.objects.filter(slug=slug).first()
        if partner is None:
            raise CommandError(f"No partner {slug!r}.")
        try:
            secret = webhooks.set_webhook(partner, url, actor_label=ACTOR)
        except Refusal as error:
            raise CommandError(error.message)
        self.stdout.write(json.dumps({"partner": partner.slug, "url": url, "secret": secret}))
