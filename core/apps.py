from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The pieces every app stands on (client addresses, refusals, the request context, lookups, the open routes);
    it imports no other app of the portal."""

    name = "core"

    def ready(self):
        from core import lookups  # noqa: F401 (registers field__any, which the feeds use)
