from django.apps import AppConfig


class TakedownsConfig(AppConfig):
    name = "takedowns"

    def ready(self):
        # Imported once the app registry is ready (both import models), not for a cycle.
        from partners.addresses import address_reported
        from takedowns import tasks
        from takedowns.actions import mail_queued, partner_reported

        mail_queued.connect(tasks.on_mail_queued, dispatch_uid="takedowns.tasks.on_mail_queued")
        address_reported.connect(partner_reported, dispatch_uid="takedowns.actions.partner_reported")
