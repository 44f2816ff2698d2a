from django.contrib import admin
from django.db import models

from .models import (
    BuyingRole,
    ContentAsset,
    Department,
    Flow,
    JourneyMap,
    MapPersona,
    Membership,
    Metric,
    Persona,
    Revision,
    Stage,
    Touchpoint,
    TrashItem,
    Workspace,
)


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


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role"]
    list_filter = ["role", "workspace"]
    search_fields = ["user__username", "user__email", "workspace__name"]
    autocomplete_fields = ["user", "workspace"]


@admin.register(Department, BuyingRole)
class KeyedLibraryAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "workspace", "order"]
    list_filter = ["workspace"]
    search_fields = ["name", "key"]


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "role", "title", "influence", "workspace"]
    list_filter = ["workspace", "role", "influence"]
    search_fields = ["name", "key", "title", "goals", "fears"]


@admin.register(ContentAsset)
class ContentAssetAdmin(admin.ModelAdmin):
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
class JourneyMapAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "workspace", "archived", "updated"]
    list_filter = ["workspace", "archived"]
    search_fields = ["name", "key", "description", "goal"]
    inlines = [StageInline, MapPersonaInline]


class MetricInline(admin.TabularInline):
    model = Metric
    extra = 0


class TouchpointInline(admin.TabularInline):
    model = Touchpoint
    extra = 0
    fields = ["order", "key", "name", "channel", "owner", "emotion"]
    show_change_link = True


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "map", "order", "lead", "entered", "converted", "target_conversion"]
    list_filter = ["map__workspace", "map", "lead"]
    search_fields = ["name", "key", "goal", "map__name"]
    filter_horizontal = ["contributors", "required_roles", "content"]
    inlines = [MetricInline, TouchpointInline]


class FlowInline(admin.TabularInline):
    model = Flow
    fk_name = "source"
    extra = 0
    autocomplete_fields = ["target"]


@admin.register(Touchpoint)
class TouchpointAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "stage", "map", "channel", "owner", "emotion"]
    list_filter = ["map__workspace", "map", "owner", "emotion"]
    search_fields = ["name", "key", "description", "channel", "pain_point", "opportunity"]
    filter_horizontal = ["personas", "content"]
    inlines = [FlowInline]


@admin.register(MapPersona)
class MapPersonaAdmin(admin.ModelAdmin):
    list_display = ["persona", "map", "order"]
    list_filter = ["map__workspace", "map"]
    search_fields = ["persona__name", "map__name"]
    filter_horizontal = ["stages"]


@admin.register(Metric)
class MetricAdmin(admin.ModelAdmin):
    list_display = ["name", "stage", "target", "actual", "unit"]
    list_filter = ["stage__map"]
    search_fields = ["name", "stage__name"]


@admin.register(Flow)
class FlowAdmin(admin.ModelAdmin):
    list_display = ["source", "target", "order"]
    list_filter = ["source__map"]
    search_fields = ["source__name", "target__name"]


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    """The history is written by maps.changes alone: here it can be read, not changed."""

    list_display = ["map", "number", "at", "user", "summary"]
    list_filter = ["map__workspace"]
    search_fields = ["summary", "map__name", "user__username"]
    readonly_fields = ["map", "number", "user", "at", "summary", "stage", "undoes"]
    exclude = ["delta", "checkpoint"]

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
