from django.apps import AppConfig


class TakedownsConfig(AppConfig):
    name = "takedowns"

    def ready(self):
        # Imported once the app registry is ready (both import models), not for a cycle.
        from takedowns import tasks
        from takedowns.actions import mail_queued

        mail_queued.connect(tasks.on_mail_queued, dispatch_uid="takedowns.tasks.on_mail_queued")
