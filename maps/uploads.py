"""journeymap/1 documents uploaded in the browser: a new map, or a map's content
replaced, each in two steps: the upload shows what the map will contain, Apply writes it.

The same functions as `import_map` check, report and write: `interchange.parse` and
`validate` word the refusals, a rolled-back `interchange.import_map` finds what the
command line reports (the key the map gets, the library items that differ), and the
writes are the command's (`import_map` with its first revision; `history.replace` for a
replace, one revision that can be undone). Between the two steps the file waits in the
cache (shared by every app server), under a random token and the person's id, for an
hour; Apply for a replace is refused if the map changed since the preview.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from . import audit, changes, history, interchange
from .interchange import InterchangeError, Reused
from .models import AuditEvent, JourneyMap, Workspace
from .said import Said

KEEP_SECONDS = 60 * 60
LIBRARY = ("departments", "roles", "personas", "content")


class Expired(changes.Refused):
    """The upload waited too long (or was applied already): choose the file again."""


@dataclass
class Preview:
    """What a map will contain once the file is applied; `reused` as the command line
    words them (interchange.Reused)."""

    token: str
    filename: str
    name: str
    key: str
    stages: list[tuple[str, int]]
    personas: list[str]
    touchpoints: int
    flows: int
    added: dict[str, list[str]] = field(default_factory=dict)
    kept: dict[str, list[str]] = field(default_factory=dict)
    reused: list[Reused] = field(default_factory=list)
    version: int | None = None

    @property
    def reused_lines(self) -> list[str]:
        return [str(item) for item in self.reused]


def read(upload) -> bytes:
    """The uploaded file's bytes; a file above settings.IMPORT_MAX_BYTES is refused
    before it is read (parse words the refusal)."""
    if upload is None:
        # Translators: on the page that imports a map from a file, when Upload was pressed without a file.
        raise changes.Refused(_("Choose a journeymap/1 file (.json) to upload."))
    if upload.size > settings.IMPORT_MAX_BYTES:
        raise InterchangeError(interchange._document(), interchange.too_large())
    return upload.read(settings.IMPORT_MAX_BYTES + 1)


def preview(text: bytes, filename: str, workspace: Workspace, user, into: JourneyMap | None = None) -> Preview:
    """Check the file as `import_map` does and say what the map will contain; the file
    is kept for `apply_import` / `apply_replace`. InterchangeError names the first problem."""
    doc = interchange.parse(text)
    interchange.validate(doc, workspace)
    filename = os.path.basename(filename or "")[:200]
    lists = {name: doc.get(name, []) for name in (*LIBRARY, "stages", "touchpoints")}
    have = {name: set(_library_keys(workspace, name)) for name in LIBRARY}
    with transaction.atomic():
        # The command's own import, undone: the key it would take, what it would report.
        trial = interchange.import_map(doc, workspace)
        key, reused = trial.key, trial.reused
        transaction.set_rollback(True)
    per_stage = {stage["key"]: 0 for stage in lists["stages"]}
    for touchpoint in lists["touchpoints"]:
        per_stage[touchpoint["stage"]] += 1
    found = Preview(
        token=secrets.token_urlsafe(24),
        filename=filename,
        name=doc["map"]["name"],
        key=into.key if into is not None else key,
        stages=[(stage["name"], per_stage[stage["key"]]) for stage in lists["stages"]],
        personas=[persona["name"] for persona in lists["personas"]],
        touchpoints=len(lists["touchpoints"]),
        flows=sum(len(touchpoint.get("next", [])) for touchpoint in lists["touchpoints"]),
        added={name: [_label(item) for item in lists[name] if item["key"] not in have[name]] for name in LIBRARY},
        kept={name: [_label(item) for item in lists[name] if item["key"] in have[name]] for name in LIBRARY},
        reused=reused,
        version=into.version if into is not None else None,
    )
    cache.set(
        _cache_key(user, workspace, found.token),
        {"text": text, "filename": filename, "into": into.pk if into is not None else None, "version": found.version},
        KEEP_SECONDS,
    )
    return found


def _library_keys(workspace: Workspace, list_name: str) -> list[str]:
    related = {"departments": "departments", "roles": "roles", "personas": "personas", "content": "content"}
    return list(getattr(workspace, related[list_name]).values_list("key", flat=True))


def _label(item: dict) -> str:
    return item.get("name") or item.get("title") or item["key"]


def _cache_key(user, workspace: Workspace, token: str) -> str:
    return f"journeymap:upload:{user.pk}:{workspace.pk}:{token}"


def _kept(user, workspace: Workspace, token: str, into: JourneyMap | None) -> dict:
    kept = cache.get(_cache_key(user, workspace, str(token)[:64])) if token else None
    if kept is None or kept["into"] != (into.pk if into is not None else None):
        # Translators: Apply on the import preview, when the uploaded file is no longer kept
        # (after an hour, or once applied).
        raise Expired(
            _("This upload is no longer kept (an hour after the preview, or once applied): choose the file again.")
        )
    return kept


def _summary(filename: str) -> Said:
    # The command line's own words (import_map).
    if filename:
        return Said(gettext_noop("imported %(file)s"), file=filename)
    return Said(gettext_noop("replaced the map’s content"))


def apply_import(workspace: Workspace, user, token: str, update_library: bool = False) -> JourneyMap:
    """Write the previewed file as a new map (its first revision), as `import_map` does;
    `reused` on the map lists the library items kept that differ from the file."""
    kept = _kept(user, workspace, token, None)
    doc = interchange.parse(kept["text"])
    with transaction.atomic():
        journey_map = interchange.import_map(doc, workspace, update_library=update_library)
        changes.record_creation(journey_map, user, summary=_summary(kept["filename"]))
        audit.record(AuditEvent.IMPORTED, user=user, workspace=workspace, map=journey_map.name, file=kept["filename"])
    cache.delete(_cache_key(user, workspace, token))
    return journey_map


def apply_replace(journey_map: JourneyMap, user, token: str) -> None:
    """Replace the map's content with the previewed file as one revision (as
    `import_map --into`); refused, writing nothing, if the map changed since the preview."""
    workspace = journey_map.workspace
    kept = _kept(user, workspace, token, journey_map)
    doc = interchange.parse(kept["text"])
    with transaction.atomic():
        history.replace(journey_map, doc, user=user, summary=_summary(kept["filename"]), version=kept["version"])
        audit.record(
            AuditEvent.IMPORTED,
            user=user,
            workspace=workspace,
            map=journey_map.name,
            file=kept["filename"],
            into=journey_map.key,
        )
    cache.delete(_cache_key(user, workspace, token))
