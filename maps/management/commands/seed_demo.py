"""`python manage.py seed_demo`: the demo workspace, its user, and two maps to look at.

`make run` calls this every time, so each step only creates what is missing and never
touches what exists: a demo user's new password, a renamed stage or a deleted
touchpoint all survive the next run.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from maps import changes, interchange
from maps.models import JourneyMap, Membership, Workspace
from maps.stage_templates import apply_template, ensure_workspace_defaults

DEMO_FILE = Path(__file__).resolve().parents[2] / "demo" / "acme-b2b.json"
WORKSPACE_SLUG, WORKSPACE_NAME = "demo", "Demo workspace"
USERNAME, PASSWORD = "demo", "demo-journeymap"
EXAMPLE_MAP_KEY = "acme-b2b"
JAPANESE_MAP_KEY = "b2b-five-stage-ja"
JAPANESE_MAP_NAME = "B2Bジャーニー（5段階テンプレート）"
JAPANESE_MAP_DESCRIPTION = "b2b-five-stage テンプレートから作成した、日本語の空のジャーニーマップです。"


class Command(BaseCommand):
    help = "Create the demo workspace, user and maps; safe to run again."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            workspace = self.ensure_workspace()
            self.ensure_user(workspace)
            # The example map first: it brings its own departments and roles, and the
            # defaults then only fill in what it lacks.
            self.ensure_example_map(workspace)
            ensure_workspace_defaults(workspace)
            self.ensure_japanese_map(workspace)
        # The URL depends on how the app is served (make run prints it); the login does not.
        self.stdout.write(f"Sign in as {USERNAME} / {PASSWORD}")

    def say(self, created: bool, what: str) -> None:
        self.stdout.write(f"{'Created' if created else 'Kept existing'} {what}")

    def ensure_workspace(self) -> Workspace:
        workspace, created = Workspace.objects.get_or_create(slug=WORKSPACE_SLUG, defaults={"name": WORKSPACE_NAME})
        self.say(created, f'workspace "{workspace.slug}"')
        return workspace

    def ensure_user(self, workspace: Workspace) -> None:
        user, created = get_user_model().objects.get_or_create(
            username=USERNAME,
            defaults={"email": "demo@example.com", "is_staff": True, "is_superuser": True},
        )
        if created:
            # Staff and superuser so the same login opens the admin.
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        self.say(created, f'user "{user.username}"')
        _, created = Membership.objects.get_or_create(
            workspace=workspace, user=user, defaults={"role": Membership.OWNER}
        )
        self.say(created, f'membership of "{user.username}" in "{workspace.slug}"')

    def ensure_example_map(self, workspace: Workspace) -> None:
        journey_map = JourneyMap.objects.filter(workspace=workspace, key=EXAMPLE_MAP_KEY).first()
        created = journey_map is None
        if created:
            document = interchange.parse(DEMO_FILE.read_text(encoding="utf-8"))
            journey_map = interchange.import_map(document, workspace)
            changes.record_creation(journey_map, summary="created the demo map")
        self.say(created, f'map "{journey_map.ref}"')

    def ensure_japanese_map(self, workspace: Workspace) -> None:
        journey_map, created = JourneyMap.objects.get_or_create(
            workspace=workspace,
            key=JAPANESE_MAP_KEY,
            defaults={"name": JAPANESE_MAP_NAME, "description": JAPANESE_MAP_DESCRIPTION},
        )
        if created:
            apply_template(journey_map, "b2b-five-stage", "ja")
            changes.record_creation(journey_map, summary="created the demo map")
        self.say(created, f'map "{journey_map.ref}"')
