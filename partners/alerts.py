"""Telling partner managers that a partner's push is in trouble."""

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from staff import roles
from staff.models import User


def push_parked(partner, delivery):
    """Retries ran out for a batch: the partner is degraded until a person resumes it. Mail every active
    partner manager (the partner's page shows a banner too)."""
    recipients = list(User.objects.filter(groups__name=roles.PARTNER_MANAGER, is_active=True)
                      .values_list("email", flat=True))
    if not recipients:
        return
    page = reverse("partner_detail", args=[partner.slug])
    send_mail(
        f"Push to {partner.name} has stopped",
        f"Every retry of a batch of {delivery.records} hashes to {partner.name}'s webhook failed, so it is parked "
        f"and the batches after it wait. Nothing is lost.\n\nCheck the delivery log on {page}, fix the cause "
        f"with the partner, then press Resume there.",
        settings.DEFAULT_FROM_EMAIL, recipients)
