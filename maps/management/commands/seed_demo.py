"""`python manage.py seed_demo`: the demo workspaces, their user, and maps to look at.

The English workspace `demo` holds the filled example map and an empty Japanese map
made from a template; the Japanese workspace `demo-ja` holds the same example map as a
Japanese team writes it (its departments and buying roles in Japanese too).

`make run` calls this every time, so each step only creates what is missing and never
touches what exists (but for taking staff and superuser rights from an older demo user,
whose password is published): a demo user's new password, a renamed stage or a deleted
touchpoint all survive the next run.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from maps import changes, interchange
from maps.models import JourneyMap, Membership, Workspace
from maps.said import Said
from maps.stage_templates import apply_template, ensure_workspace_defaults

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
DEMO_FILE = DEMO_DIR / "acme-b2b.json"
JAPANESE_DEMO_FILE = DEMO_DIR / "acme-b2b-ja.json"
# Workspace names are the team's own text, as a team would name it; not interface text.
WORKSPACE_SLUG, WORKSPACE_NAME = "demo", "Demo workspace"  # i18n: not for people
JAPANESE_WORKSPACE_SLUG, JAPANESE_WORKSPACE_NAME = "demo-ja", "デモワークスペース（日本語）"
USERNAME, PASSWORD = "demo", "demo-journeymap"
EXAMPLE_MAP_KEY = "acme-b2b"
JAPANESE_EXAMPLE_MAP_KEY = "acme-b2b-ja"
JAPANESE_MAP_KEY = "b2b-five-stage-ja"
JAPANESE_MAP_NAME = "B2Bジャーニー（5段階テンプレート）"
JAPANESE_MAP_DESCRIPTION = "b2b-five-stage テンプレートから作成した、日本語の空のジャーニーマップです。"

DEMO_CREATED = Said(gettext_noop("created the demo map"))


class Command(BaseCommand):
    help = gettext_lazy("Create the demo workspaces, user and maps; safe to run again.")

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            workspace = self.ensure_workspace(WORKSPACE_SLUG, WORKSPACE_NAME)
            user = self.ensure_user()
            self.ensure_member(workspace, user)
            # The example map first: it brings its own departments and roles, and the
            # defaults then only fill in what it lacks.
            self.ensure_example_map(workspace, EXAMPLE_MAP_KEY, DEMO_FILE)
            ensure_workspace_defaults(workspace)
            self.ensure_japanese_map(workspace)
            japanese = self.ensure_workspace(JAPANESE_WORKSPACE_SLUG, JAPANESE_WORKSPACE_NAME)
            self.ensure_member(japanese, user)
            self.ensure_example_map(japanese, JAPANESE_EXAMPLE_MAP_KEY, JAPANESE_DEMO_FILE)
            ensure_workspace_defaults(japanese, "ja")
        # The URL depends on how the app is served (make run prints it); the login does not.
        self.stdout.write(_("Sign in as %(user)s / %(password)s") % {"user": USERNAME, "password": PASSWORD})

    def say(self, created: bool, created_text: str, kept_text: str, **values: str) -> None:
        self.stdout.write((created_text if created else kept_text) % values)

    def ensure_workspace(self, slug: str, name: str) -> Workspace:
        workspace, created = Workspace.objects.get_or_create(slug=slug, defaults={"name": name})
        self.say(created, _('Created workspace "%(slug)s"'), _('Kept existing workspace "%(slug)s"'), slug=slug)
        return workspace

    def ensure_user(self):
        # A plain member of the demo workspaces, never staff or superuser: its password is
        # printed in the README, and the admin must not open with it.
        user, created = get_user_model().objects.get_or_create(
            username=USERNAME, defaults={"email": "demo@example.com"}
        )
        if created:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        elif user.is_staff or user.is_superuser:
            # Made by an older seed_demo: the one thing changed on an existing user.
            user.is_staff = user.is_superuser = False
            user.save(update_fields=["is_staff", "is_superuser"])
            self.stdout.write(_('User "%(user)s" no longer opens the admin') % {"user": user.username})
        self.say(created, _('Created user "%(user)s"'), _('Kept existing user "%(user)s"'), user=user.username)
        return user

    def ensure_member(self, workspace: Workspace, user) -> None:
        _membership, created = Membership.objects.get_or_create(
            workspace=workspace, user=user, defaults={"role": Membership.OWNER}
        )
        self.say(
            created,
            _('Created membership of "%(user)s" in "%(workspace)s"'),
            _('Kept existing membership of "%(user)s" in "%(workspace)s"'),
            user=user.username,
            workspace=workspace.slug,
        )

    def ensure_example_map(self, workspace: Workspace, key: str, path: Path) -> None:
        journey_map = JourneyMap.objects.filter(workspace=workspace, key=key).first()
        created = journey_map is None
        if created:
            document = interchange.parse(path.read_text(encoding="utf-8"))
            journey_map = interchange.import_map(document, workspace)
            changes.record_creation(journey_map, summary=DEMO_CREATED)
        self.say(created, _('Created map "%(map)s"'), _('Kept existing map "%(map)s"'), map=journey_map.ref)

    def ensure_japanese_map(self, workspace: Workspace) -> None:
        journey_map, created = JourneyMap.objects.get_or_create(
            workspace=workspace,
            key=JAPANESE_MAP_KEY,
            defaults={"name": JAPANESE_MAP_NAME, "description": JAPANESE_MAP_DESCRIPTION, "language": "ja"},
        )
        if created:
            apply_template(journey_map, "b2b-five-stage", "ja")
            changes.record_creation(journey_map, summary=DEMO_CREATED)
        self.say(created, _('Created map "%(map)s"'), _('Kept existing map "%(map)s"'), map=journey_map.ref)
