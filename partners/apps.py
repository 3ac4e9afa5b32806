from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"

    def ready(self):
        # Imported here, as Django asks of code that needs the app registry ready.
        import ncii_portal.lookups  # noqa: F401 (registers field__any, which the feeds use)
        from hashing.actions import bank_changed
        from partners import push

        bank_changed.connect(push.on_bank_changed, dispatch_uid="partners.push.on_bank_changed")
