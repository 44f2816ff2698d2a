"""System checks: what the app cannot work without is said at start, not at the first render."""

from __future__ import annotations

import shutil

from django.conf import settings
from django.core.checks import Error, register
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
