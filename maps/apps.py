from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class MapsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "maps"
    verbose_name = gettext_lazy("Maps")

    def ready(self) -> None:
        # The system checks, and the sign-in signals (the audit log, sessions), register.
        from . import accounts, checks  # noqa: F401
