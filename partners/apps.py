from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"

    def ready(self):
        # Imported once the app registry is ready (hashing.actions and partners.tasks import models), not for a cycle.
        from cases.actions import case_withdrawn
        from hashing.actions import bank_changed
        from partners import tasks

        bank_changed.connect(tasks.on_bank_changed, dispatch_uid="partners.tasks.on_bank_changed")
        case_withdrawn.connect(tasks.on_case_withdrawn, dispatch_uid="partners.tasks.on_case_withdrawn")
