"""System checks: what the app cannot work without is said at start, not at the first render."""

from __future__ import annotations

import shutil

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.utils.translation import gettext as _


@register()
def graphviz_is_installed(app_configs, **kwargs) -> list[Error]:
    if shutil.which(settings.GRAPHVIZ_DOT):
        return []
    return [
        Error(
            _("Graphviz's dot was not found (GRAPHVIZ_DOT=%(dot)s): diagrams and exports cannot be drawn.")
            % {"dot": repr(settings.GRAPHVIZ_DOT)},
            hint=_("Install Graphviz (apt-get install graphviz) or set GRAPHVIZ_DOT to the dot binary."),
            id="maps.E001",
        )
    ]


@register(deploy=True)
def shared_cache_for_several_processes(app_configs, **kwargs) -> list[Warning]:
    """Live updates, cached diagrams and share-link locks live in the cache: in one
    process's memory, a second app server process sees none of them."""
    backend = settings.CACHES["default"]["BACKEND"]
    if not backend.endswith("LocMemCache"):
        return []
    return [
        Warning(
            _(
                "The cache is this process's memory: with more than one app server process, people do not see each other's changes live."
            ),
            hint=_("Set REDIS_URL (for example redis://127.0.0.1:6379/0) before running more than one worker."),
            id="maps.W001",
        )
    ]
