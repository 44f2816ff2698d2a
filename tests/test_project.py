"""The project as a whole: system checks pass and no model change lacks its migration."""

from __future__ import annotations

import pytest
from django.core.management import call_command


def test_system_checks_pass():
    call_command("check", fail_level="WARNING")


@pytest.mark.django_db
def test_no_migration_is_missing():
    # --check exits non-zero (SystemExit) when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_admin_lists_and_opens_every_model_of_the_app(admin_client, small_map, owner):
    from django.apps import apps
    from django.urls import reverse
    from django.utils.html import escape

    from maps import changes
    from maps.models import FunnelFigure, TrashItem, UserSettings

    changes.record_creation(small_map, owner)
    TrashItem.objects.create(workspace=small_map.workspace, map=small_map, kind="touchpoint", name="Gone")
    UserSettings.choose_language(owner, "ja")
    _one_of_each_workshop_thing(small_map, owner)
    FunnelFigure.objects.create(stage=small_map.stages.first(), period="2026-10", entered=1000, converted=200)
    _answer_and_swot(small_map)
    _monitoring_and_an_action(small_map)
    for model in apps.get_app_config("maps").get_models():
        name = model._meta.model_name
        listing = admin_client.get(reverse(f"admin:maps_{name}_changelist"))
        assert listing.status_code == 200, name
        obj = model.objects.first()
        assert obj is not None, f"the fixture map has no {name}"
        assert escape(str(obj)) in listing.content.decode(), name
        assert admin_client.get(reverse(f"admin:maps_{name}_change", args=[obj.pk])).status_code == 200, name


def _monitoring_and_an_action(journey_map) -> None:
    from maps.models import Action, MetricActual, QualificationCriterion

    stage = journey_map.stages.first()
    metric = stage.metrics.first() or stage.metrics.create(name="MQLs", target=10)
    MetricActual.objects.create(metric=metric, period="2026-10", actual=8)
    QualificationCriterion.objects.create(stage=stage, kind="fit", description="200+ people", points=20)
    Action.objects.create(map=journey_map, key="fix-pricing", title="Publish pricing", impact=4, effort=2)


def _answer_and_swot(journey_map) -> None:
    from maps.models import StageAnswer, SwotItem

    stage = journey_map.stages.first()
    stage.questions = ["Who reads?"]
    stage.save()
    StageAnswer.objects.create(stage=stage, question="Who reads?", answer="IT leads", by="alice")
    SwotItem.objects.create(map=journey_map, key="strength-referrals", kind="S", text="Customers refer us")


def _one_of_each_workshop_thing(journey_map, user) -> None:
    import datetime

    from django.utils import timezone

    from maps.models import Comment, Invitation, ShareLink, VoteDot, VoteItem, VoteSession

    later = timezone.now() + datetime.timedelta(days=7)
    Invitation.objects.create(workspace=journey_map.workspace, token_hash="a" * 64, created_by=user, expires=later)
    Comment.objects.create(map=journey_map, author=user, body="Who owns this?")
    session = VoteSession.objects.create(map=journey_map, title="What first?", created_by=user)
    item = VoteItem.objects.create(session=session, kind=VoteItem.PAIN, key="pain:demo", label="Slow demo")
    VoteDot.objects.create(item=item, user=user)
    ShareLink.objects.create(map=journey_map, token_hash="b" * 64, created_by=user)


def test_funnel_figures_changed_in_the_admin_are_the_stages_and_one_revision(admin_client, small_map, owner):
    from django.urls import reverse

    from maps import changes
    from maps.models import FunnelFigure, Revision, Stage

    changes.record_creation(small_map, owner)
    stage = small_map.stages.get(key="awareness")
    FunnelFigure.objects.create(stage=stage, period="2026-09", entered=900, converted=100)
    latest = FunnelFigure.objects.create(stage=stage, period="2026-10", entered=1000, converted=200)
    before = Revision.objects.filter(map=small_map).count()
    data = {"stage": stage.pk, "period": "2026-10", "entered": "1200", "converted": "300"}
    response = admin_client.post(reverse("admin:maps_funnelfigure_change", args=[latest.pk]), data)
    assert response.status_code == 302
    assert (Stage.objects.get(pk=stage.pk).entered, Stage.objects.get(pk=stage.pk).converted) == (1200, 300)
    assert Revision.objects.filter(map=small_map).count() == before + 1
    admin_client.post(reverse("admin:maps_funnelfigure_delete", args=[latest.pk]), {"post": "yes"})
    # The period before is the latest now, and the stage shows it.
    assert (Stage.objects.get(pk=stage.pk).entered, Stage.objects.get(pk=stage.pk).converted) == (900, 100)
    assert Revision.objects.filter(map=small_map).count() == before + 2
