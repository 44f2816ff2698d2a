from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class MapsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "maps"
    verbose_name = gettext_lazy("Maps")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
