from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"

    def ready(self):
        # Imported once the app registry is ready (hashing.actions and partners.tasks import models), not for a cycle.
        import ncii_portal.lookups  # noqa: F401 (registers field__any, which the feeds use)
        from hashing import actions
        from partners import tasks

        if tasks.soon not in actions.AFTER_COMMIT:
            actions.AFTER_COMMIT.append(tasks.soon)
