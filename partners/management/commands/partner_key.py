import json

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.errors import Refusal
from partners import onboarding
from partners.models import Partner

ACTOR = "command:partner_key"


class Command(BaseCommand):
    help = ('Issue an API key for partner SLUG and print {"partner", "key", "stopncii": {"subscription_key", '
            '"function_key"}} (the secret is shown only here). --create makes the partner and moves it to live at '
            "once, overriding what going live needs (contact, sandbox test, checklist): each step is in the audit "
            "log, and the go-live lists what it overrode.")

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--scopes", default="fetch,feedback", help="comma-separated: fetch, feedback, submit")
        parser.add_argument("--create", action="store_true", help="create the partner (live) if there is none")

    def handle(self, *args, slug, scopes, create, **options):
        scopes = [scope.strip() for scope in scopes.split(",") if scope.strip()]
        try:
            with transaction.atomic():
                partner = Partner.objects.filter(slug=slug).first()
                if partner is None:
                    if not create:
                        raise CommandError(f"No partner {slug!r}; add --create to make one.")
                    partner = self.create_live(slug)
                key, secret = onboarding.issue_key(partner, scopes=scopes, actor_label=ACTOR, label="partner_key")
        except Refusal as error:
            raise CommandError(error.message)
        self.stdout.write(json.dumps({
            "partner": partner.slug,
            "key": f"{key.public_id}.{secret}",
            "stopncii": {"subscription_key": key.public_id, "function_key": secret},
        }))

    def create_live(self, slug):
        """A new partner, live at once: an operator's explicit override of the onboarding gates, for development
        and for tools' tests (a threatexchange client against the portal). No tick is given in anyone's name;
        the go_live audit row lists what was missing (docs/api.md)."""
        partner = onboarding.create_partner(name=slug.replace("-", " ").title(), slug=slug, actor_label=ACTOR)
        for move in ("start_vetting", "sign_agreement", "start_integration"):
            onboarding.move_partner(partner, move, actor_label=ACTOR)
        return onboarding.move_partner(partner, "go_live", actor_label=ACTOR, override=True)
