from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = "Staff"

    def ready(self):
        from staff import receivers  # noqa: F401  (audit of login and MFA events)
