"""The journeymap domain: a workspace's library (departments, buying roles, personas,
content) and its journey maps (stages, touchpoints, flows, the personas in scope).

Keys are slugs, unique within their list, exactly as in the journeymap/1 format; the
database enforces what it can (uniqueness, ranges, converted <= entered) so that no
path into it, form, import or admin, can store a map the rest of the app cannot read.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .validators import COUNT_MAX, printable, text_lines, web_address

EMOTION_MIN, EMOTION_MAX = -2, 2
INFLUENCE_MIN, INFLUENCE_MAX = 1, 5


class Workspace(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    OWNER, EDITOR, VIEWER = "owner", "editor", "viewer"
    ROLE_CHOICES = [(OWNER, "Owner"), (EDITOR, "Editor"), (VIEWER, "Viewer")]

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=ROLE_CHOICES, default=EDITOR)

    class Meta:
        ordering = ["workspace", "user"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique_user"),
            models.CheckConstraint(condition=Q(role__in=["owner", "editor", "viewer"]), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.workspace}"

    @property
    def can_edit(self) -> bool:
        return self.role in (self.OWNER, self.EDITOR)


class Department(models.Model):
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="departments")
    key = models.SlugField(max_length=64)
    name = models.CharField(max_length=200, validators=[printable])
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["workspace", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="department_unique_key"),
        ]

    def __str__(self) -> str:
        return self.name


class BuyingRole(models.Model):
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="roles")
    key = models.SlugField(max_length=64)
    name = models.CharField(max_length=200, validators=[printable])
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["workspace", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="role_unique_key"),
        ]

    def __str__(self) -> str:
        return self.name


class Persona(models.Model):
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="personas")
    key = models.SlugField(max_length=64)
    name = models.CharField(max_length=200, validators=[printable])
    role = models.ForeignKey(BuyingRole, models.PROTECT, null=True, blank=True, related_name="personas")
    title = models.CharField("job title", max_length=200, blank=True, validators=[printable])
    goals = models.TextField(blank=True, validators=[printable])
    motivations = models.TextField(blank=True, validators=[printable])
    triggers = models.TextField(blank=True, validators=[printable])
    fears = models.TextField("fears / pain points", blank=True, validators=[printable])
    background = models.TextField(blank=True, validators=[printable])
    influence = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(INFLUENCE_MIN), MaxValueValidator(INFLUENCE_MAX)],
        help_text="1 (little) to 5 (decides)",
    )
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["workspace", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="persona_unique_key"),
            models.CheckConstraint(
                condition=Q(influence__isnull=True) | Q(influence__gte=INFLUENCE_MIN, influence__lte=INFLUENCE_MAX),
                name="persona_influence_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ContentAsset(models.Model):
    TYPE_CHOICES = [
        ("blog-post", "Blog post"),
        ("ebook", "eBook"),
        ("white-paper", "White paper"),
        ("case-study", "Case study"),
        ("solution-brief", "Solution brief"),
        ("video", "Video"),
        ("demo", "Demo"),
        ("webinar", "Webinar"),
        ("tool", "Tool"),
        ("email", "Email"),
        ("survey", "Survey"),
        ("testimonial", "Testimonial"),
        ("referral-program", "Referral program"),
        ("how-to", "How-to"),
        ("landing-page", "Landing page"),
        ("ad", "Ad"),
        ("infographic", "Infographic"),
        ("event", "Event"),
        ("other", "Other"),
    ]
    TYPES = [value for value, _ in TYPE_CHOICES]
    DRAFT, LIVE, RETIRED = "draft", "live", "retired"
    STATUS_CHOICES = [(DRAFT, "Draft"), (LIVE, "Live"), (RETIRED, "Retired")]
    STATUSES = [value for value, _ in STATUS_CHOICES]

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="content")
    key = models.SlugField(max_length=64)
    title = models.CharField(max_length=300, validators=[printable])
    type = models.CharField(max_length=32, choices=TYPE_CHOICES, default="other")
    url = models.URLField("URL", max_length=1000, blank=True, validators=[web_address])
    personas = models.ManyToManyField(Persona, blank=True, related_name="content")
    questions = models.JSONField(default=list, blank=True, help_text="Questions it answers", validators=[text_lines])
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=DRAFT)
    last_reviewed = models.DateField(null=True, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["workspace", "order", "id"]
        verbose_name = "content asset"
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="content_unique_key"),
            models.CheckConstraint(condition=Q(status__in=["draft", "live", "retired"]), name="content_status_valid"),
        ]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def type_from_word(cls, word: object) -> str | None:
        """The type key for a word as people write it: any case, spaces or hyphens
        ("Case study", "case-study", "WHITE PAPER", "eBook"); None if it is no type."""
        if not isinstance(word, str):
            return None
        wanted = "-".join(word.replace("_", " ").replace("-", " ").lower().split())
        for key, label in cls.TYPE_CHOICES:
            if wanted in (key, "-".join(str(label).lower().replace("-", " ").split())):
                return key
        return None

    @classmethod
    def type_words(cls) -> str:
        """The accepted words, for a message that refuses one."""
        return ", ".join(str(label).lower() for _, label in cls.TYPE_CHOICES)


class JourneyMapQuerySet(models.QuerySet):
    def loaded(self) -> JourneyMapQuerySet:
        """Everything gaps, diagrams and exports read, in a fixed number of queries.

        However large the map, reading it costs the same queries: the stages, touchpoints
        and their relations come in one prefetch each, never one per row.
        """
        touchpoints = Touchpoint.objects.select_related("owner", "stage").prefetch_related(
            "personas", "content", Prefetch("flows_out", queryset=Flow.objects.select_related("target"))
        )
        stages = Stage.objects.select_related("lead").prefetch_related(
            "contributors",
            "required_roles",
            "metrics",
            "content",
            Prefetch("touchpoints", queryset=touchpoints),
        )
        map_personas = MapPersona.objects.select_related("persona__role").prefetch_related("stages", "persona__content")
        return self.select_related("workspace").prefetch_related(
            Prefetch("stages", queryset=stages),
            Prefetch("map_personas", queryset=map_personas),
            "workspace__departments",
            "workspace__roles",
        )


class JourneyMap(models.Model):
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="maps")
    key = models.SlugField(max_length=64)
    name = models.CharField(max_length=200, validators=[printable])
    description = models.TextField(blank=True, validators=[printable])
    goal = models.TextField(blank=True, validators=[printable])
    archived = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    # Bumped by every change (maps.changes): what an edit was made on, and what caches key on.
    version = models.PositiveIntegerField(default=0)
    # A deleted map waits in the trash (maps.trash) until this is 30 days old.
    deleted = models.DateTimeField(null=True, blank=True)

    objects = JourneyMapQuerySet.as_manager()

    class Meta:
        ordering = ["workspace", "name"]
        verbose_name = "journey map"
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="map_unique_key"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("map_detail", args=[self.workspace.slug, self.key])

    @property
    def ref(self) -> str:
        """WORKSPACE/MAP, as the command line names a map."""
        return f"{self.workspace.slug}/{self.key}"


class Stage(models.Model):
    map = models.ForeignKey(JourneyMap, models.CASCADE, related_name="stages")
    key = models.SlugField(max_length=64)
    name = models.CharField(max_length=200, validators=[printable])
    goal = models.TextField(blank=True, validators=[printable])
    questions = models.JSONField(default=list, blank=True, help_text="Key questions", validators=[text_lines])
    lead = models.ForeignKey(Department, models.PROTECT, null=True, blank=True, related_name="led_stages")
    contributors = models.ManyToManyField(Department, blank=True, related_name="contributed_stages")
    required_roles = models.ManyToManyField(BuyingRole, blank=True, related_name="stages")
    content = models.ManyToManyField(ContentAsset, blank=True, related_name="stages")
    entered = models.PositiveIntegerField(null=True, blank=True, validators=[MaxValueValidator(COUNT_MAX)])
    converted = models.PositiveIntegerField(null=True, blank=True, validators=[MaxValueValidator(COUNT_MAX)])
    target_conversion = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="0 to 1, e.g. 0.2 for 20 %",
    )
    handoff_sla = models.TextField("hand-off SLA", blank=True, validators=[printable])
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["map", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["map", "key"], name="stage_unique_key"),
            models.CheckConstraint(
                condition=Q(target_conversion__isnull=True) | Q(target_conversion__gte=0, target_conversion__lte=1),
                name="stage_target_conversion_range",
            ),
            models.CheckConstraint(
                condition=Q(entered__isnull=True) | Q(converted__isnull=True) | Q(converted__lte=models.F("entered")),
                name="stage_converted_not_above_entered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.entered is not None and self.converted is not None and self.converted > self.entered:
            raise ValidationError(
                {"converted": _("Cannot be more than entered (%(entered)s).") % {"entered": self.entered}}
            )

    @property
    def conversion(self) -> float | None:
        if not self.entered or self.converted is None:
            return None
        return self.converted / self.entered


class Metric(models.Model):
    """A KPI of a stage: name, target, actual."""

    stage = models.ForeignKey(Stage, models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=200, validators=[printable])
    target = models.FloatField(null=True, blank=True)
    actual = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=32, blank=True, validators=[printable])
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["stage", "order", "id"]
        verbose_name = "KPI"
        verbose_name_plural = "KPIs"

    def __str__(self) -> str:
        return self.name


class MapPersona(models.Model):
    """A library persona added to a map, with the stages it is in scope for."""

    map = models.ForeignKey(JourneyMap, models.CASCADE, related_name="map_personas")
    persona = models.ForeignKey(Persona, models.PROTECT, related_name="map_entries")
    stages = models.ManyToManyField(
        Stage, blank=True, related_name="scoped_personas", help_text="Empty means every stage"
    )
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["map", "order", "id"]
        verbose_name = "persona in map"
        verbose_name_plural = "personas in maps"
        constraints = [
            models.UniqueConstraint(fields=["map", "persona"], name="map_persona_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.persona} in {self.map}"


class Touchpoint(models.Model):
    # The map is stored beside the stage so that the database can keep keys unique per map.
    map = models.ForeignKey(JourneyMap, models.CASCADE, related_name="touchpoints")
    stage = models.ForeignKey(Stage, models.CASCADE, related_name="touchpoints")
    key = models.SlugField(max_length=64)
    name = models.CharField(max_length=200, validators=[printable])
    description = models.TextField(blank=True, validators=[printable])
    channel = models.CharField(max_length=100, blank=True, validators=[printable])
    owner = models.ForeignKey(Department, models.PROTECT, null=True, blank=True, related_name="touchpoints")
    personas = models.ManyToManyField(Persona, blank=True, related_name="touchpoints")
    emotion = models.SmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(EMOTION_MIN), MaxValueValidator(EMOTION_MAX)],
        help_text="-2 (very negative) to +2 (very positive)",
    )
    pain_point = models.TextField(blank=True, validators=[printable])
    opportunity = models.TextField(blank=True, validators=[printable])
    content = models.ManyToManyField(ContentAsset, blank=True, related_name="touchpoints")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["stage__order", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["map", "key"], name="touchpoint_unique_key"),
            models.CheckConstraint(
                condition=Q(emotion__isnull=True) | Q(emotion__gte=EMOTION_MIN, emotion__lte=EMOTION_MAX),
                name="touchpoint_emotion_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Flow(models.Model):
    """The path a buyer takes: from one touchpoint to the next, within or across stages."""

    source = models.ForeignKey(Touchpoint, models.CASCADE, related_name="flows_out")
    target = models.ForeignKey(Touchpoint, models.CASCADE, related_name="flows_in")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["source", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="flow_unique_pair"),
            models.CheckConstraint(condition=~Q(source=models.F("target")), name="flow_not_to_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"

    def clean(self) -> None:
        if self.source_id is not None and self.source_id == self.target_id:
            raise ValidationError({"target": _("A touchpoint cannot flow to itself.")})


class Revision(models.Model):
    """One change to a map: who, when, a line saying what, and the difference it made to
    the map's journeymap/1 document (maps.revisions), with the whole document now and then."""

    map = models.ForeignKey(JourneyMap, models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()  # the map's version after this change
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="revisions")
    at = models.DateTimeField(default=timezone.now)
    summary = models.CharField(max_length=500)
    # The stage the change is about, for the history's filter; blank for the whole map.
    stage = models.CharField(max_length=64, blank=True)
    delta = models.BinaryField()
    checkpoint = models.BinaryField(null=True, blank=True)
    # Set on a revision that undid another, and on the one it undid.
    undoes = models.OneToOneField("self", models.SET_NULL, null=True, blank=True, related_name="undone_by")
    # The form the change came from, so that the same form sent twice (a double click)
    # is saved once.
    token = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["map", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["map", "number"], name="revision_unique_number"),
        ]
        indexes = [models.Index(fields=["map", "user", "-number"], name="revision_by_user")]

    def __str__(self) -> str:
        return f"{self.map} #{self.number}: {self.summary}"


class TrashItem(models.Model):
    """Something deleted, kept whole for 30 days so that it can be brought back with its
    links: a stage or touchpoint as document items (maps.trash), a library item, a map."""

    MAP, STAGE, TOUCHPOINT, LIBRARY = "map", "stage", "touchpoint", "library"
    KIND_CHOICES = [(MAP, "map"), (STAGE, "stage"), (TOUCHPOINT, "touchpoint"), (LIBRARY, "library item")]

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="trash")
    map = models.ForeignKey(JourneyMap, models.CASCADE, null=True, blank=True, related_name="trash")
    kind = models.CharField(max_length=12, choices=KIND_CHOICES)
    name = models.CharField(max_length=300)
    payload = models.JSONField(default=dict)
    deleted = models.DateTimeField(default=timezone.now)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["workspace", "-deleted"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"
