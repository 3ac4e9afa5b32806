from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"

    def ready(self):
        import ncii_portal.lookups  # noqa: F401 (registers field__any, which the feeds use)
        from hashing import actions
        from partners import push

        if push.soon not in actions.AFTER_COMMIT:
            actions.AFTER_COMMIT.append(push.soon)
