"""System checks: what the app cannot work without is said at start, not at the first render."""

from __future__ import annotations

import shutil

from django.conf import settings
from django.core.checks import Error, register


@register()
def graphviz_is_installed(app_configs, **kwargs) -> list[Error]:
    if shutil.which(settings.GRAPHVIZ_DOT):
        return []
    return [
        Error(
            f"Graphviz's dot was not found (GRAPHVIZ_DOT={settings.GRAPHVIZ_DOT!r}): diagrams and exports cannot be drawn.",
            hint="Install Graphviz (apt-get install graphviz) or set GRAPHVIZ_DOT to the dot binary.",
            id="maps.E001",
        )
    ]
