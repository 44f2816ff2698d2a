from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy, gettext_noop

from . import audit, changes
from .models import (
    AccountSession,
    Action,
    AuditEvent,
    BuyingRole,
    Comment,
    ContentAsset,
    Department,
    Flow,
    FunnelFigure,
    Invitation,
    JourneyMap,
    MapPersona,
    Membership,
    Metric,
    MetricActual,
    Persona,
    QualificationCriterion,
    Revision,
    ShareLink,
    Stage,
    StageAnswer,
    SwotItem,
    Touchpoint,
    TrashItem,
    UserSettings,
    VoteDot,
    VoteItem,
    VoteSession,
    Workspace,
)
from .said import Said

# What a change made in the admin says, per kind of object and what was done to it:
# whole sentences, since a translation may word each differently. A map made in the
# admin is "created the map" and a deleted one goes to the trash (WritePathAdmin).
ADMIN_SAYS = {
    Department: {
        "added": gettext_noop("added department ‘%(name)s’ in the admin"),
        "changed": gettext_noop("changed department ‘%(name)s’ in the admin"),
        "deleted": gettext_noop("deleted department ‘%(name)s’ in the admin"),
    },
    BuyingRole: {
        "added": gettext_noop("added buying role ‘%(name)s’ in the admin"),
        "changed": gettext_noop("changed buying role ‘%(name)s’ in the admin"),
        "deleted": gettext_noop("deleted buying role ‘%(name)s’ in the admin"),
    },
    Persona: {
        "added": gettext_noop("added persona ‘%(name)s’ in the admin"),
        "changed": gettext_noop("changed persona ‘%(name)s’ in the admin"),
        "deleted": gettext_noop("deleted persona ‘%(name)s’ in the admin"),
    },
    ContentAsset: {
        "added": gettext_noop("added content asset ‘%(name)s’ in the admin"),
        "changed": gettext_noop("changed content asset ‘%(name)s’ in the admin"),
        "deleted": gettext_noop("deleted content asset ‘%(name)s’ in the admin"),
    },
    JourneyMap: {
        "changed": gettext_noop("changed journey map ‘%(name)s’ in the admin"),
    },
    Stage: {
        "added": gettext_noop("added stage ‘%(name)s’ in the admin"),
        "changed": gettext_noop("changed stage ‘%(name)s’ in the admin"),
        "deleted": gettext_noop("deleted stage ‘%(name)s’ in the admin"),
    },
    Touchpoint: {
        "added": gettext_noop("added touchpoint ‘%(name)s’ in the admin"),
        "changed": gettext_noop("changed touchpoint ‘%(name)s’ in the admin"),
        "deleted": gettext_noop("deleted touchpoint ‘%(name)s’ in the admin"),
    },
    MapPersona: {
        "added": gettext_noop("added persona in map ‘%(name)s’ in the admin"),
        "changed": gettext_noop("changed persona in map ‘%(name)s’ in the admin"),
        "deleted": gettext_noop("deleted persona in map ‘%(name)s’ in the admin"),
    },
    Metric: {
        "added": gettext_noop("added KPI ‘%(name)s’ in the admin"),
        "changed": gettext_noop("changed KPI ‘%(name)s’ in the admin"),
        "deleted": gettext_noop("deleted KPI ‘%(name)s’ in the admin"),
    },
    FunnelFigure: {
        "added": gettext_noop("added funnel figures ‘%(name)s’ in the admin"),
        "changed": gettext_noop("changed funnel figures ‘%(name)s’ in the admin"),
        "deleted": gettext_noop("deleted funnel figures ‘%(name)s’ in the admin"),
    },
    Action: {
        "added": gettext_noop("added action ‘%(name)s’ in the admin"),
        "changed": gettext_noop("changed action ‘%(name)s’ in the admin"),
        "deleted": gettext_noop("deleted action ‘%(name)s’ in the admin"),
    },
    Flow: {
        "added": gettext_noop("added flow ‘%(name)s’ in the admin"),
        "changed": gettext_noop("changed flow ‘%(name)s’ in the admin"),
        "deleted": gettext_noop("deleted flow ‘%(name)s’ in the admin"),
    },
}
# For anything the table lacks.
ADMIN_SAYS_ANY = {
    "added": gettext_noop("added ‘%(name)s’ in the admin"),
    "changed": gettext_noop("changed ‘%(name)s’ in the admin"),
    "deleted": gettext_noop("deleted ‘%(name)s’ in the admin"),
}


def admin_said(obj, done: str) -> Said:
    """What `done` ("added", "changed", "deleted") to `obj` in the admin says."""
    msgid = ADMIN_SAYS.get(type(obj), {}).get(done) or ADMIN_SAYS_ANY[done]
    return Said(msgid, name=str(obj))


class WritePathAdmin(admin.ModelAdmin):
    """Saves and deletes through the write path (maps.changes), as the pages do: each
    change becomes a revision of every map it shows in, by the admin user."""

    def _map_of(self, obj):
        if isinstance(obj, JourneyMap):
            return obj
        if isinstance(obj, Flow):
            return obj.source.map
        if isinstance(obj, (Metric, FunnelFigure, StageAnswer, QualificationCriterion)):
            return obj.stage.map
        if isinstance(obj, MetricActual):
            return obj.metric.stage.map
        return getattr(obj, "map", None)

    def _writing(self, request, obj, done: str):
        summary = admin_said(obj, done)
        journey_map = self._map_of(obj)
        if journey_map is not None:
            return changes.editing(journey_map, request.user, summary)
        return changes.editing_library(obj.workspace, request.user, summary)

    def save_related(self, request, form, formsets, change) -> None:
        # save_model has written the row; this runs in the same transaction, so the
        # revision recorded on the way out holds both the row and its links.
        if isinstance(form.instance, JourneyMap) and not change:
            super().save_related(request, form, formsets, change)
            changes.record_creation(form.instance, request.user)
            return
        with self._writing(request, form.instance, "changed" if change else "added"):
            super().save_related(request, form, formsets, change)

    def delete_model(self, request, obj) -> None:
        if isinstance(obj, JourneyMap):
            changes.delete_map(obj, user=request.user)
            return
        with self._writing(request, obj, "deleted"):
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def save_formset(self, request, form, formset, change) -> None:
        changed = [f.instance for f in formset.forms if f.instance.pk and "role" in f.changed_data]
        old = dict(Membership.objects.filter(pk__in=[m.pk for m in changed]).values_list("pk", "role"))
        super().save_formset(request, form, formset, change)
        for membership in changed:
            _role_changed_in_admin(request, membership, old.get(membership.pk, ""))


def _role_changed_in_admin(request, membership: Membership, old: str) -> None:
    """A role changed in the admin is in the workspace's security log like one changed on
    its settings page."""
    audit.record(
        AuditEvent.ROLE_CHANGED,
        user=request.user,
        workspace=membership.workspace,
        member=membership.user.get_username(),
        role=membership.role,
        old=old,
    )


@admin.register(UserSettings)
class UserSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "language"]
    list_filter = ["language"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role"]
    list_filter = ["role", "workspace"]
    search_fields = ["user__username", "user__email", "workspace__name"]
    autocomplete_fields = ["user", "workspace"]

    def save_model(self, request, obj, form, change) -> None:
        old = Membership.objects.filter(pk=obj.pk).values_list("role", flat=True).first() if change else None
        super().save_model(request, obj, form, change)
        if change and old != obj.role:
            _role_changed_in_admin(request, obj, old or "")


@admin.register(Department, BuyingRole)
class KeyedLibraryAdmin(WritePathAdmin):
    list_display = ["name", "key", "workspace", "order"]
    list_filter = ["workspace"]
    search_fields = ["name", "key"]


@admin.register(Persona)
class PersonaAdmin(WritePathAdmin):
    list_display = ["name", "key", "role", "title", "influence", "workspace"]
    list_filter = ["workspace", "role", "influence"]
    search_fields = ["name", "key", "title", "goals", "fears"]


@admin.register(ContentAsset)
class ContentAssetAdmin(WritePathAdmin):
    list_display = ["title", "key", "type", "status", "last_reviewed", "workspace"]
    list_filter = ["workspace", "status", "type"]
    search_fields = ["title", "key", "url"]
    filter_horizontal = ["personas"]
    date_hierarchy = "last_reviewed"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0
    fields = ["order", "key", "name", "lead", "entered", "converted", "target_conversion"]
    show_change_link = True


class MapPersonaInline(admin.TabularInline):
    model = MapPersona
    extra = 0
    fields = ["order", "persona"]


@admin.register(JourneyMap)
class JourneyMapAdmin(WritePathAdmin):
    list_display = ["name", "key", "workspace", "archived", "updated"]
    list_filter = ["workspace", "archived"]
    search_fields = ["name", "key", "description", "goal"]
    inlines = [StageInline, MapPersonaInline]


class MetricInline(admin.TabularInline):
    model = Metric
    extra = 0


class MetricActualInline(admin.TabularInline):
    model = MetricActual
    extra = 0


class CriterionInline(admin.TabularInline):
    model = QualificationCriterion
    extra = 0


class TouchpointInline(admin.TabularInline):
    model = Touchpoint
    extra = 0
    fields = ["order", "key", "name", "channel", "owner", "emotion"]
    show_change_link = True


@admin.register(Stage)
class StageAdmin(WritePathAdmin):
    list_display = ["name", "key", "map", "order", "lead", "entered", "converted", "target_conversion"]
    list_filter = ["map__workspace", "map", "lead"]
    search_fields = ["name", "key", "goal", "map__name"]
    filter_horizontal = ["contributors", "required_roles", "content"]
    inlines = [MetricInline, CriterionInline, TouchpointInline]


class FlowInline(admin.TabularInline):
    model = Flow
    fk_name = "source"
    extra = 0
    autocomplete_fields = ["target"]


@admin.register(Touchpoint)
class TouchpointAdmin(WritePathAdmin):
    list_display = ["name", "key", "stage", "map", "channel", "owner", "emotion"]
    list_filter = ["map__workspace", "map", "owner", "emotion"]
    search_fields = ["name", "key", "description", "channel", "pain_point", "opportunity"]
    filter_horizontal = ["personas", "content"]
    inlines = [FlowInline]


@admin.register(MapPersona)
class MapPersonaAdmin(WritePathAdmin):
    list_display = ["persona", "map", "order"]
    list_filter = ["map__workspace", "map"]
    search_fields = ["persona__name", "map__name"]
    filter_horizontal = ["stages"]


@admin.register(Metric)
class MetricAdmin(WritePathAdmin):
    list_display = ["name", "stage", "direction", "target", "actual", "unit"]
    list_filter = ["stage__map"]
    search_fields = ["name", "stage__name"]
    inlines = [MetricActualInline]

    # A KPI shows its latest period's actual (maps.changes): an actual typed here is the
    # latest period's; otherwise the KPI follows its periods, in the same change.
    def save_related(self, request, form, formsets, change) -> None:
        with self._writing(request, form.instance, "changed" if change else "added"):
            admin.ModelAdmin.save_related(self, request, form, formsets, change)
            metric = Metric.objects.get(pk=form.instance.pk)
            if "actual" in form.changed_data and metric.actual is not None:
                changes.history_follows_metric(metric)
            else:
                changes.metric_follows_history(metric)


class PeriodAdmin(WritePathAdmin):
    """A figure of one period (funnel figures, KPI actuals): the thing it belongs to shows
    its latest period's figure (maps.changes), and follows in the same change, whichever
    period was written or deleted. `owner` names the field of that thing, `follow` the
    function of maps.changes that brings it in step."""

    owner = ""
    follow = staticmethod(lambda owner: None)

    def _follow(self, owner_id: int) -> None:
        field = self.model._meta.get_field(self.owner)
        self.follow(field.related_model.objects.get(pk=owner_id))

    def save_related(self, request, form, formsets, change) -> None:
        with self._writing(request, form.instance, "changed" if change else "added"):
            admin.ModelAdmin.save_related(self, request, form, formsets, change)
            self._follow(getattr(form.instance, self.owner + "_id"))

    def delete_model(self, request, obj) -> None:
        with self._writing(request, obj, "deleted"):
            owner_id = getattr(obj, self.owner + "_id")
            admin.ModelAdmin.delete_model(self, request, obj)
            self._follow(owner_id)


@admin.register(FunnelFigure)
class FunnelFigureAdmin(PeriodAdmin):
    list_display = ["stage", "period", "entered", "converted"]
    list_filter = ["stage__map"]
    search_fields = ["stage__name", "period"]
    owner, follow = "stage", staticmethod(changes.stage_follows_figures)


@admin.register(MetricActual)
class MetricActualAdmin(PeriodAdmin):
    list_display = ["metric", "period", "actual"]
    list_filter = ["metric__stage__map"]
    search_fields = ["metric__name", "period"]
    owner, follow = "metric", staticmethod(changes.metric_follows_history)


@admin.register(QualificationCriterion)
class QualificationCriterionAdmin(WritePathAdmin):
    list_display = ["description", "kind", "points", "stage", "order"]
    list_filter = ["stage__map", "kind"]
    search_fields = ["description", "stage__name"]


@admin.register(StageAnswer)
class StageAnswerAdmin(WritePathAdmin):
    list_display = ["question", "stage", "answer", "by", "at"]
    list_filter = ["stage__map"]
    search_fields = ["question", "answer", "stage__name"]


@admin.register(SwotItem)
class SwotItemAdmin(WritePathAdmin):
    list_display = ["text", "kind", "map", "stage", "key"]
    list_filter = ["kind", "map"]
    search_fields = ["text", "key"]


@admin.register(Flow)
class FlowAdmin(WritePathAdmin):
    list_display = ["source", "target", "order"]
    list_filter = ["source__map"]
    search_fields = ["source__name", "target__name"]


@admin.register(Action)
class ActionAdmin(WritePathAdmin):
    list_display = ["title", "key", "map", "impact", "effort", "owner", "due", "status"]
    list_filter = ["map__workspace", "map", "status", "owner"]
    search_fields = ["title", "key", "source"]


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    """The history is written by maps.changes alone: here it can be read, not changed."""

    list_display = ["map", "number", "at", "user", "summary"]
    list_filter = ["map__workspace"]
    # The text as its author read it: what the database can search.
    search_fields = ["summary_text", "map__name", "user__username"]
    readonly_fields = ["map", "number", "user", "at", "summary", "summary_text", "stage", "undoes"]
    exclude = ["delta", "checkpoint"]

    @admin.display(description=gettext_lazy("summary"))
    def summary(self, revision: Revision) -> str:
        """In the reader's language."""
        return revision.summary

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TrashItem)
class TrashItemAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "workspace", "map", "deleted", "deleted_by"]
    list_filter = ["kind", "workspace"]
    readonly_fields = ["workspace", "map", "kind", "name", "payload", "deleted", "deleted_by"]

    def has_add_permission(self, request) -> bool:
        return False


# Workshops: looked at here, managed in the app (workspace settings, comments, votes).
@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["workspace", "role", "created", "expires", "revoked", "accepted"]
    list_filter = ["role"]
    readonly_fields = ["token_hash"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["map", "target", "author", "created", "resolved"]
    list_filter = ["target"]
    search_fields = ["body"]


@admin.register(VoteSession)
class VoteSessionAdmin(admin.ModelAdmin):
    list_display = ["title", "map", "votes_each", "created", "closed"]


@admin.register(VoteItem)
class VoteItemAdmin(admin.ModelAdmin):
    list_display = ["label", "session", "kind"]


@admin.register(VoteDot)
class VoteDotAdmin(admin.ModelAdmin):
    list_display = ["item", "user", "created"]


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ["map", "label", "created", "expires", "revoked", "views"]
    readonly_fields = ["token_hash", "password"]


# The security log is written by the app only: read here, never changed.
@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["__str__", "workspace", "address"]
    list_filter = ["kind"]
    search_fields = ["username", "address", "workspace__name"]
    date_hierarchy = "created"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# Who is signed in where (for "sign out everywhere"); the session key itself is a
# credential and never shown.
@admin.register(AccountSession)
class AccountSessionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "created"]
    search_fields = ["user__username"]
    fields = ["user", "created"]
    readonly_fields = ["user", "created"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
