"""What the management commands share: naming a map as WORKSPACE/MAP, and bad input
reported as exit status 2 with one line (docs/format.md, commands)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.base import CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from .models import LANGUAGE_CODES, JourneyMap, Workspace
from .validators import visible


def add_language_argument(parser) -> None:
    """`--language en|ja`: the language of what the command writes for people."""
    parser.add_argument(
        "--language",
        choices=LANGUAGE_CODES,
        help=_("language of the messages and labels (default: the map's language)"),
    )


@contextmanager
def speaking(language: str | None, journey_map: JourneyMap | None = None) -> Iterator[None]:
    """Run the rest of a command in `language`, else the map's, else English. Gap codes,
    keys and the JSON field names never change with it; only the words for people do."""
    chosen = language or (journey_map.language if journey_map else None) or translation.get_language()
    with translation.override(chosen):
        yield


def bad_input(message: str) -> CommandError:
    """The error every command raises for bad input: exit 2, one line."""
    return CommandError(visible(" ".join(str(message).split())), returncode=2)


def get_workspace(slug: str) -> Workspace:
    try:
        return Workspace.objects.get(slug=slug)
    except Workspace.DoesNotExist:
        raise bad_input(_('no workspace "%(slug)s"') % {"slug": slug}) from None


def get_map(ref: str, loaded: bool = True) -> JourneyMap:
    """The map named WORKSPACE/MAP; with `loaded`, prefetched for gaps and diagrams."""
    workspace_slug, sep, map_key = ref.partition("/")
    if not sep or not workspace_slug or not map_key or "/" in map_key:
        raise bad_input(_('"%(ref)s" is not WORKSPACE/MAP (for example demo/acme-b2b)') % {"ref": ref})
    workspace = get_workspace(workspace_slug)
    maps = JourneyMap.objects.loaded() if loaded else JourneyMap.objects.all()
    try:
        return maps.get(workspace=workspace, key=map_key, deleted=None)
    except JourneyMap.DoesNotExist:
        raise bad_input(
            _('no map "%(map)s" in workspace "%(workspace)s"') % {"map": map_key, "workspace": workspace_slug}
        ) from None


def write_file(path: str, content: bytes) -> None:
    """Write `content` to `path` whole or not at all: through a temporary file beside it,
    so a failed write leaves an existing file as it was."""
    handle, temporary = None, None
    try:
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".journeymap-")
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    except OSError as err:
        if temporary and os.path.exists(temporary):
            os.unlink(temporary)
        raise bad_input(
            _('cannot write "%(path)s": %(reason)s') % {"path": path, "reason": err.strerror or err}
        ) from None
