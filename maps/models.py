"""The journeymap domain: a workspace's library (departments, buying roles, personas,
content) and its journey maps (stages, touchpoints, flows, the personas in scope).

Keys are slugs, unique within their list, exactly as in the journeymap/1 format; the
database enforces what it can (uniqueness, ranges, converted <= entered) so that no
path into it, form, import or admin, can store a map the rest of the app cannot read.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from .said import Said
from .validators import (
    ANSWER_MAX_LENGTH,
    COUNT_MAX,
    LINE_MAX_LENGTH,
    SWOT_TEXT_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    long_text,
    printable,
    text_lines,
    web_address,
)

EMOTION_MIN, EMOTION_MAX = -2, 2
# The languages of the interface (settings.LANGUAGES) are the languages a map can be in.
LANGUAGE_CODES = tuple(code for code, _name in settings.LANGUAGES)
DEFAULT_LANGUAGE = settings.LANGUAGE_CODE
INFLUENCE_MIN, INFLUENCE_MAX = 1, 5
REVIEW_EVERY_DAYS, REVIEW_MAX_DAYS = 90, 3650
# Lead qualification: points of one criterion and the threshold a lead must reach.
POINTS_MIN, POINTS_MAX = -1000, 1000
THRESHOLD_MIN, THRESHOLD_MAX = -100_000, 100_000


class Workspace(models.Model):
    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200, validators=[printable])
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("workspace")
        verbose_name_plural = _("workspaces")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    OWNER, EDITOR, VIEWER = "owner", "editor", "viewer"
    ROLE_CHOICES = [
        # Translators: a person's role in a workspace (owner, editor, viewer).
        (OWNER, _("Owner")),
        (EDITOR, _("Editor")),
        (VIEWER, _("Viewer")),
    ]

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="memberships", verbose_name=_("workspace"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=10, choices=ROLE_CHOICES, default=EDITOR)
    # Empty for members from before this was recorded: nobody knows since when.
    joined = models.DateTimeField(_("member since"), default=timezone.now, null=True, blank=True, editable=False)

    class Meta:
        ordering = ["workspace", "user"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique_user"),
            models.CheckConstraint(condition=Q(role__in=["owner", "editor", "viewer"]), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return gettext("%(user)s (%(role)s) in %(workspace)s") % {
            "user": self.user,
            "role": self.role,
            "workspace": self.workspace,
        }

    @property
    def can_edit(self) -> bool:
        return self.role in (self.OWNER, self.EDITOR)

    @property
    def is_owner(self) -> bool:
        return self.role == self.OWNER


class Department(models.Model):
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="departments", verbose_name=_("workspace"))
    key = models.SlugField(_("key"), max_length=64)
    name = models.CharField(_("name"), max_length=200, validators=[printable])
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["workspace", "order", "id"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="department_unique_key"),
        ]

    def __str__(self) -> str:
        return self.name


class BuyingRole(models.Model):
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="roles", verbose_name=_("workspace"))
    key = models.SlugField(_("key"), max_length=64)
    name = models.CharField(_("name"), max_length=200, validators=[printable])
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["workspace", "order", "id"]
        verbose_name = _("buying role")
        verbose_name_plural = _("buying roles")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="role_unique_key"),
        ]

    def __str__(self) -> str:
        return self.name


class Persona(models.Model):
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="personas", verbose_name=_("workspace"))
    key = models.SlugField(_("key"), max_length=64)
    name = models.CharField(_("name"), max_length=200, validators=[printable])
    role = models.ForeignKey(
        BuyingRole,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="personas",
        verbose_name=pgettext_lazy("the buying role of a persona", "role"),
    )
    title = models.CharField(_("job title"), max_length=200, blank=True, validators=[printable])
    goals = models.TextField(_("goals"), blank=True, max_length=TEXT_MAX_LENGTH, validators=[printable, long_text])
    motivations = models.TextField(
        _("motivations"), blank=True, max_length=TEXT_MAX_LENGTH, validators=[printable, long_text]
    )
    triggers = models.TextField(
        _("triggers"), blank=True, max_length=TEXT_MAX_LENGTH, validators=[printable, long_text]
    )
    fears = models.TextField(
        _("fears / pain points"), blank=True, max_length=TEXT_MAX_LENGTH, validators=[printable, long_text]
    )
    background = models.TextField(
        _("background"), blank=True, max_length=TEXT_MAX_LENGTH, validators=[printable, long_text]
    )
    influence = models.PositiveSmallIntegerField(
        _("influence"),
        null=True,
        blank=True,
        validators=[MinValueValidator(INFLUENCE_MIN), MaxValueValidator(INFLUENCE_MAX)],
        help_text=_("1 (little) to 5 (decides)"),
    )
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["workspace", "order", "id"]
        verbose_name = _("persona")
        verbose_name_plural = _("personas")
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
    # The types in the words of the journeymap/1 format, which are English whatever
    # language the interface speaks (type_from_word); people see them translated.
    TYPE_WORDS = [
        ("blog-post", gettext_noop("Blog post")),
        ("ebook", gettext_noop("eBook")),
        ("white-paper", gettext_noop("White paper")),
        ("case-study", gettext_noop("Case study")),
        ("solution-brief", gettext_noop("Solution brief")),
        ("video", gettext_noop("Video")),
        ("demo", gettext_noop("Demo")),
        ("webinar", gettext_noop("Webinar")),
        ("tool", gettext_noop("Tool")),
        ("email", gettext_noop("Email")),
        ("survey", gettext_noop("Survey")),
        ("testimonial", gettext_noop("Testimonial")),
        ("referral-program", gettext_noop("Referral program")),
        ("how-to", gettext_noop("How-to")),
        ("landing-page", gettext_noop("Landing page")),
        # Translators: a content type, an advertisement.
        ("ad", gettext_noop("Ad")),
        ("infographic", gettext_noop("Infographic")),
        ("event", gettext_noop("Event")),
        # Translators: a content type that is none of the others.
        ("other", gettext_noop("Other")),
    ]
    TYPE_CHOICES = [(value, _(word)) for value, word in TYPE_WORDS]
    TYPES = [value for value, _word in TYPE_WORDS]
    DRAFT, LIVE, RETIRED = "draft", "live", "retired"
    STATUS_CHOICES = [
        # Translators: the status of a content asset (draft, live, retired).
        (DRAFT, _("Draft")),
        (LIVE, _("Live")),
        (RETIRED, _("Retired")),
    ]
    STATUSES = [value for value, _label in STATUS_CHOICES]

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="content", verbose_name=_("workspace"))
    key = models.SlugField(_("key"), max_length=64)
    title = models.CharField(_("title"), max_length=300, validators=[printable])
    # Translators: the kind of a content asset (blog post, eBook...).
    type = models.CharField(_("type"), max_length=32, choices=TYPE_CHOICES, default="other")
    url = models.URLField(_("URL"), max_length=1000, blank=True, validators=[web_address])
    personas = models.ManyToManyField(Persona, blank=True, related_name="content", verbose_name=_("personas"))
    questions = models.JSONField(
        _("questions"), default=list, blank=True, help_text=_("Questions it answers"), validators=[text_lines]
    )
    status = models.CharField(_("status"), max_length=10, choices=STATUS_CHOICES, default=DRAFT)
    last_reviewed = models.DateField(_("last reviewed"), null=True, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["workspace", "order", "id"]
        verbose_name = _("content asset")
        verbose_name_plural = _("content assets")
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
        for key, english in cls.TYPE_WORDS:
            if wanted in (key, "-".join(english.lower().replace("-", " ").split())):
                return key
        return None

    @classmethod
    def type_words(cls) -> str:
        """The accepted words, for a message that refuses one: the format's, in English."""
        return ", ".join(english.lower() for _key, english in cls.TYPE_WORDS)


class JourneyMapQuerySet(models.QuerySet):
    def stages_only(self) -> JourneyMapQuerySet:
        """The stages with their leads, contributors and funnel figures, and the
        departments: what the funnel and accountability tabs show, without a single
        touchpoint (a map of 2,000 touchpoints loads as fast as one of five)."""
        stages = Stage.objects.select_related("lead").prefetch_related("contributors", "figures", "criteria")
        return self.select_related("workspace").prefetch_related(
            Prefetch("stages", queryset=stages), "workspace__departments"
        )

    def loaded(self) -> JourneyMapQuerySet:
        """Everything gaps, diagrams and exports read, in a fixed number of queries.

        However large the map, reading it costs the same queries: the stages, touchpoints
        and their relations come in one prefetch each, never one per row.
        """
        # A card's stage, its owner and a flow's target are objects read anyway (the stages,
        # the workspace's departments, the map's touchpoints): `_link` points at them after
        # the fetch instead of reading each a second time per row. Flows are ordered by
        # their own columns: the model's ordering by `source` would join the touchpoints.
        flows = Flow.objects.order_by("source_id", "order", "id")
        touchpoints = Touchpoint.objects.prefetch_related("personas", "content", Prefetch("flows_out", queryset=flows))
        stages = Stage.objects.select_related("lead").prefetch_related(
            "contributors",
            "required_roles",
            "metrics__history",
            "content",
            "figures",
            "criteria",
            "answers",
            Prefetch("touchpoints", queryset=touchpoints),
        )
        map_personas = MapPersona.objects.select_related("persona__role").prefetch_related("stages", "persona__content")
        loaded = self.select_related("workspace").prefetch_related(
            Prefetch("stages", queryset=stages),
            Prefetch("map_personas", queryset=map_personas),
            "workspace__departments",
            "workspace__roles",
        )
        loaded._links = True
        return loaded

    # Set by loaded(): the fetched maps get their shared objects linked (`_link`).
    _links = False

    def _clone(self) -> JourneyMapQuerySet:
        clone = super()._clone()
        clone._links = self._links
        return clone

    def _fetch_all(self) -> None:
        fetching = self._result_cache is None
        super()._fetch_all()
        if fetching and self._links:
            for journey_map in self._result_cache:
                if isinstance(journey_map, JourneyMap):
                    _link(journey_map)


def _link(journey_map: JourneyMap) -> None:
    """Point each card's owner and each flow's target at the map's own objects: the
    workspace's departments and the map's touchpoints, fetched once by `loaded()`. What is
    not among them (never, by the models' rules) is left to be read when asked for."""
    departments = {department.pk: department for department in journey_map.workspace.departments.all()}
    touchpoints = {tp.pk: tp for stage in journey_map.stages.all() for tp in stage.touchpoints.all()}
    owner, target = Touchpoint.owner.field, Flow.target.field
    for tp in touchpoints.values():
        if tp.owner_id in departments:
            owner.set_cached_value(tp, departments[tp.owner_id])
        for flow in tp.flows_out.all():
            if flow.target_id in touchpoints:
                target.set_cached_value(flow, touchpoints[flow.target_id])


class JourneyMap(models.Model):
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="maps", verbose_name=_("workspace"))
    key = models.SlugField(_("key"), max_length=64)
    name = models.CharField(_("name"), max_length=200, validators=[printable])
    description = models.TextField(
        _("description"), blank=True, max_length=TEXT_MAX_LENGTH, validators=[printable, long_text]
    )
    goal = models.TextField(_("goal"), blank=True, max_length=TEXT_MAX_LENGTH, validators=[printable, long_text])
    # The language the map is written in: what the command line and a deck made without
    # a person asking default to. A map made from a Japanese template is "ja".
    language = models.CharField(
        _("language of the map"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=DEFAULT_LANGUAGE,
        help_text=_("Stage templates, default departments and exports use it."),
    )
    archived = models.BooleanField(_("archived"), default=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)
    # Bumped by every change (maps.changes): what an edit was made on, and what caches key on.
    version = models.PositiveIntegerField(_("version"), default=0)
    # A deleted map waits in the trash (maps.trash) until this is 30 days old.
    deleted = models.DateTimeField(_("deleted"), null=True, blank=True)
    # Monitoring (seed 004): the team looks at the map again every so many days.
    review_every_days = models.PositiveSmallIntegerField(
        _("review every (days)"),
        default=REVIEW_EVERY_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(REVIEW_MAX_DAYS)],
        help_text=_("How often the team looks at this map again; a review is due after this many days."),
    )
    last_reviewed = models.DateField(_("last reviewed"), null=True, blank=True)

    objects = JourneyMapQuerySet.as_manager()

    class Meta:
        ordering = ["workspace", "name"]
        verbose_name = _("journey map")
        verbose_name_plural = _("journey maps")
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

    @property
    def review_is_due(self) -> bool:
        """For the map's header: maps.monitoring.review_due today."""
        from .monitoring import review_due

        return review_due(self)


class Stage(models.Model):
    map = models.ForeignKey(JourneyMap, models.CASCADE, related_name="stages", verbose_name=_("map"))
    key = models.SlugField(_("key"), max_length=64)
    name = models.CharField(_("name"), max_length=200, validators=[printable])
    goal = models.TextField(_("goal"), blank=True, max_length=TEXT_MAX_LENGTH, validators=[printable, long_text])
    questions = models.JSONField(
        _("questions"), default=list, blank=True, help_text=_("Key questions"), validators=[text_lines]
    )
    lead = models.ForeignKey(
        Department,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="led_stages",
        # Translators: the department that leads a stage.
        verbose_name=_("lead"),
    )
    contributors = models.ManyToManyField(
        Department, blank=True, related_name="contributed_stages", verbose_name=_("contributors")
    )
    required_roles = models.ManyToManyField(
        BuyingRole, blank=True, related_name="stages", verbose_name=_("required roles")
    )
    content = models.ManyToManyField(ContentAsset, blank=True, related_name="stages", verbose_name=_("content"))
    entered = models.PositiveIntegerField(
        # Translators: how many buyers entered a stage.
        _("entered"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(COUNT_MAX)],
    )
    converted = models.PositiveIntegerField(
        # Translators: how many buyers went on from a stage to the next.
        _("converted"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(COUNT_MAX)],
    )
    target_conversion = models.FloatField(
        _("target conversion"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_("0 to 1, e.g. 0.2 for 20 %"),
    )
    handoff_sla = models.TextField(
        _("hand-off SLA"), blank=True, max_length=TEXT_MAX_LENGTH, validators=[printable, long_text]
    )
    # The MQL/SQL definition of the hand-off (seed 001): the points a lead must reach by
    # the stage's criteria (QualificationCriterion), and when each side agreed to it.
    qualification_threshold = models.IntegerField(
        _("qualification threshold"),
        null=True,
        blank=True,
        validators=[MinValueValidator(THRESHOLD_MIN), MaxValueValidator(THRESHOLD_MAX)],
        help_text=_("The points a lead needs by the criteria below to be handed on."),
    )
    # Translators: the date the stage's lead department agreed to the qualification criteria.
    agreed_by_lead = models.DateField(_("agreed by this stage’s lead"), null=True, blank=True)
    # Translators: the date the next stage's lead department agreed to the qualification criteria.
    agreed_by_next = models.DateField(_("agreed by the next stage’s lead"), null=True, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["map", "order", "id"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
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
                {"converted": gettext("Cannot be more than entered (%(entered)s).") % {"entered": self.entered}}
            )

    @property
    def conversion(self) -> float | None:
        if not self.entered or self.converted is None:
            return None
        return self.converted / self.entered


# A period of funnel figures or of a KPI's actuals: a month (2026-10) or a quarter (2026-Q3).
PERIOD_RE = r"\A[0-9]{4}-(0[1-9]|1[0-2]|Q[1-4])\Z"
PERIOD_RULE = RegexValidator(
    PERIOD_RE, message=_("must be a month as YYYY-MM or a quarter as YYYY-Qn (2026-10, 2026-Q3)")
)


def period_order(period: str) -> tuple[int, int, int]:
    """Where a period falls in time, for sorting: by the month it ends in, a month before
    the quarter that ends with it (2026-07, 2026-08, 2026-09, 2026-Q3, 2026-10)."""
    year, _dash, part = period.partition("-")
    if part.startswith("Q"):
        return int(year), int(part[1:]) * 3, 1
    return int(year), int(part), 0


class FunnelFigure(models.Model):
    """How many buyers entered a stage and went on from it in one period. A stage with
    figures shows its latest period's as its own entered and converted (maps.changes keeps
    them in step), so the drop-off rule and the funnel read the latest period."""

    stage = models.ForeignKey(Stage, models.CASCADE, related_name="figures", verbose_name=_("stage"))
    period = models.CharField(
        # Translators: the month or quarter a stage's funnel figures are for.
        _("period"),
        max_length=7,
        validators=[PERIOD_RULE],
    )
    entered = models.PositiveIntegerField(_("entered"), validators=[MaxValueValidator(COUNT_MAX)])
    converted = models.PositiveIntegerField(_("converted"), validators=[MaxValueValidator(COUNT_MAX)])

    class Meta:
        ordering = ["stage", "period"]
        verbose_name = _("funnel figures")
        verbose_name_plural = _("funnel figures")
        constraints = [
            models.UniqueConstraint(fields=["stage", "period"], name="figure_unique_period"),
            models.CheckConstraint(
                condition=Q(converted__lte=models.F("entered")), name="figure_converted_not_above_entered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.period}"

    def clean(self) -> None:
        if self.entered is not None and self.converted is not None and self.converted > self.entered:
            raise ValidationError(
                {"converted": gettext("Cannot be more than entered (%(entered)s).") % {"entered": self.entered}}
            )


def figures_in_order(stage: Stage) -> list[FunnelFigure]:
    """The stage's figures in time order (from the prefetch of `loaded()` if there is one)."""
    return sorted(stage.figures.all(), key=lambda figure: period_order(figure.period))


class Metric(models.Model):
    """A KPI of a stage: name, target, actual, and which way is better. A KPI with
    actuals per period (MetricActual) shows its latest period's as its own actual
    (maps.changes keeps them in step), as a stage does with its funnel figures."""

    HIGHER, LOWER = "higher", "lower"
    DIRECTION_CHOICES = [
        (HIGHER, pgettext_lazy("KPI direction", "higher is better")),
        (LOWER, pgettext_lazy("KPI direction", "lower is better")),
    ]

    stage = models.ForeignKey(Stage, models.CASCADE, related_name="metrics", verbose_name=_("stage"))
    name = models.CharField(_("name"), max_length=200, validators=[printable])
    # Translators: whether a KPI is better when higher (leads) or lower (cost per lead).
    direction = models.CharField(_("direction"), max_length=8, choices=DIRECTION_CHOICES, default=HIGHER)
    # Translators: the value a KPI should reach.
    target = models.FloatField(_("target"), null=True, blank=True)
    # Translators: the value a KPI has reached.
    actual = models.FloatField(_("actual"), null=True, blank=True)
    # Translators: the unit of a KPI's values (%, leads, €).
    unit = models.CharField(_("unit"), max_length=32, blank=True, validators=[printable])
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["stage", "order", "id"]
        verbose_name = _("KPI")
        verbose_name_plural = _("KPIs")

    def __str__(self) -> str:
        return self.name

    @property
    def on_track(self) -> bool | None:
        """Whether the actual meets the target, the way the KPI counts as better (reaching
        the target exactly is on track); None while either is missing."""
        if self.actual is None or self.target is None:
            return None
        return self.actual >= self.target if self.direction == self.HIGHER else self.actual <= self.target


class MetricActual(models.Model):
    """What a KPI reached in one period (the same periods as funnel figures)."""

    metric = models.ForeignKey(Metric, models.CASCADE, related_name="history", verbose_name=_("KPI"))
    # Translators: the month or quarter a KPI's actual is for.
    period = models.CharField(_("period"), max_length=7, validators=[PERIOD_RULE])
    actual = models.FloatField(_("actual"))

    class Meta:
        ordering = ["metric", "period"]
        verbose_name = _("KPI actual")
        verbose_name_plural = _("KPI actuals")
        constraints = [models.UniqueConstraint(fields=["metric", "period"], name="metric_actual_unique_period")]

    def __str__(self) -> str:
        return f"{self.metric} {self.period}"


def history_in_order(metric: Metric) -> list[MetricActual]:
    """The KPI's actuals in time order (from the prefetch of `loaded()` if there is one)."""
    return sorted(metric.history.all(), key=lambda entry: period_order(entry.period))


class QualificationCriterion(models.Model):
    """One line of a stage's lead qualification (seed 001's lead scoring): who the lead
    is (fit) or what they did (behaviour), worth so many points, negative allowed."""

    FIT, BEHAVIOUR = "fit", "behaviour"
    KIND_CHOICES = [
        # Translators: a lead qualification criterion about who the lead is (company size, title).
        (FIT, pgettext_lazy("qualification criterion", "fit")),
        # Translators: a lead qualification criterion about what the lead did (visited pricing).
        (BEHAVIOUR, pgettext_lazy("qualification criterion", "behaviour")),
    ]

    stage = models.ForeignKey(Stage, models.CASCADE, related_name="criteria", verbose_name=_("stage"))
    kind = models.CharField(_("kind"), max_length=10, choices=KIND_CHOICES, default=FIT)
    description = models.CharField(_("description"), max_length=300, validators=[printable])
    points = models.IntegerField(_("points"), validators=[MinValueValidator(POINTS_MIN), MaxValueValidator(POINTS_MAX)])
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["stage", "order", "id"]
        verbose_name = _("qualification criterion")
        verbose_name_plural = _("qualification criteria")

    def __str__(self) -> str:
        return self.description


class MapPersona(models.Model):
    """A library persona added to a map, with the stages it is in scope for."""

    map = models.ForeignKey(JourneyMap, models.CASCADE, related_name="map_personas", verbose_name=_("map"))
    persona = models.ForeignKey(Persona, models.PROTECT, related_name="map_entries", verbose_name=_("persona"))
    stages = models.ManyToManyField(
        Stage,
        blank=True,
        related_name="scoped_personas",
        verbose_name=_("stages"),
        help_text=_("Empty means every stage"),
    )
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["map", "order", "id"]
        verbose_name = _("persona in map")
        verbose_name_plural = _("personas in maps")
        constraints = [
            models.UniqueConstraint(fields=["map", "persona"], name="map_persona_unique"),
        ]

    def __str__(self) -> str:
        return gettext("%(persona)s in %(map)s") % {"persona": self.persona, "map": self.map}


class Touchpoint(models.Model):
    # The map is stored beside the stage so that the database can keep keys unique per map.
    map = models.ForeignKey(JourneyMap, models.CASCADE, related_name="touchpoints", verbose_name=_("map"))
    stage = models.ForeignKey(Stage, models.CASCADE, related_name="touchpoints", verbose_name=_("stage"))
    key = models.SlugField(_("key"), max_length=64)
    name = models.CharField(_("name"), max_length=200, validators=[printable])
    description = models.TextField(
        _("description"), blank=True, max_length=TEXT_MAX_LENGTH, validators=[printable, long_text]
    )
    channel = models.CharField(_("channel"), max_length=100, blank=True, validators=[printable])
    owner = models.ForeignKey(
        Department,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="touchpoints",
        # Translators: the department that owns a touchpoint.
        verbose_name=_("owner"),
    )
    personas = models.ManyToManyField(Persona, blank=True, related_name="touchpoints", verbose_name=_("personas"))
    emotion = models.SmallIntegerField(
        _("emotion"),
        null=True,
        blank=True,
        validators=[MinValueValidator(EMOTION_MIN), MaxValueValidator(EMOTION_MAX)],
        help_text=_("-2 (very negative) to +2 (very positive)"),
    )
    pain_point = models.TextField(
        _("pain point"), blank=True, max_length=TEXT_MAX_LENGTH, validators=[printable, long_text]
    )
    opportunity = models.TextField(
        _("opportunity"), blank=True, max_length=TEXT_MAX_LENGTH, validators=[printable, long_text]
    )
    content = models.ManyToManyField(ContentAsset, blank=True, related_name="touchpoints", verbose_name=_("content"))
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["stage__order", "order", "id"]
        verbose_name = _("touchpoint")
        verbose_name_plural = _("touchpoints")
        constraints = [
            models.UniqueConstraint(fields=["map", "key"], name="touchpoint_unique_key"),
            models.CheckConstraint(
                condition=Q(emotion__isnull=True) | Q(emotion__gte=EMOTION_MIN, emotion__lte=EMOTION_MAX),
                name="touchpoint_emotion_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StageAnswer(models.Model):
    """The answer to one of a stage's guiding questions, with a link to its evidence.

    An answer belongs to its question's text (`question` is one of `stage.questions`):
    rewording a question in place keeps its answer, removing it removes the answer
    (maps.changes.answers_follow_questions). Who answered is kept as a user name, as
    the format writes it, so that it survives the account and a restore elsewhere."""

    stage = models.ForeignKey(Stage, models.CASCADE, related_name="answers", verbose_name=_("stage"))
    question = models.CharField(_("question"), max_length=LINE_MAX_LENGTH, validators=[printable])
    answer = models.TextField(
        _("answer"), max_length=ANSWER_MAX_LENGTH, validators=[printable, MaxLengthValidator(ANSWER_MAX_LENGTH)]
    )
    evidence = models.URLField(
        _("evidence"),
        max_length=1000,
        blank=True,
        validators=[web_address],
        help_text=_("A link to what shows it: a report, a recording, a dashboard."),
    )
    by = models.CharField(_("answered by"), max_length=150, blank=True, validators=[printable])
    at = models.DateField(_("answered on"), null=True, blank=True)

    class Meta:
        ordering = ["stage", "id"]
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [models.UniqueConstraint(fields=["stage", "question"], name="answer_unique_question")]

    def __str__(self) -> str:
        return self.answer[:60]

    def clean(self) -> None:
        if self.stage_id is not None and self.question not in self.stage.questions:
            raise ValidationError({"question": gettext("Must be one of the stage's questions, word for word.")})


class SwotItem(models.Model):
    """A strength, weakness, opportunity or threat noted for a map, or for one stage of it.
    Touchpoints' pain points and opportunities join them on the SWOT page (maps.swot)
    without being stored here."""

    STRENGTH, WEAKNESS, OPPORTUNITY, THREAT = "S", "W", "O", "T"
    KIND_CHOICES = [
        (STRENGTH, _("Strength")),
        (WEAKNESS, _("Weakness")),
        (OPPORTUNITY, _("Opportunity")),
        (THREAT, _("Threat")),
    ]
    KINDS = [value for value, _label in KIND_CHOICES]

    map = models.ForeignKey(JourneyMap, models.CASCADE, related_name="swot_items", verbose_name=_("map"))
    key = models.SlugField(_("key"), max_length=64)
    kind = models.CharField(_("kind"), max_length=1, choices=KIND_CHOICES)
    text = models.CharField(_("text"), max_length=SWOT_TEXT_MAX_LENGTH, validators=[printable])
    # A stage's item becomes the map's when the stage is deleted (and its again if the
    # stage comes back from the trash).
    stage = models.ForeignKey(
        Stage,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="swot_items",
        verbose_name=_("stage"),
        help_text=_("Empty: about the whole map."),
    )
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["map", "order", "id"]
        verbose_name = _("SWOT item")
        verbose_name_plural = _("SWOT items")
        constraints = [
            models.UniqueConstraint(fields=["map", "key"], name="swot_unique_key"),
            models.CheckConstraint(condition=Q(kind__in=["S", "W", "O", "T"]), name="swot_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class Flow(models.Model):
    """The path a buyer takes: from one touchpoint to the next, within or across stages."""

    source = models.ForeignKey(
        Touchpoint,
        models.CASCADE,
        related_name="flows_out",
        # Translators: the touchpoint a flow starts from.
        verbose_name=pgettext_lazy("flow", "source"),
    )
    target = models.ForeignKey(
        Touchpoint,
        models.CASCADE,
        related_name="flows_in",
        # Translators: the touchpoint a flow goes to.
        verbose_name=pgettext_lazy("flow", "target"),
    )
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["source", "order", "id"]
        verbose_name = _("flow")
        verbose_name_plural = _("flows")
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="flow_unique_pair"),
            models.CheckConstraint(condition=~Q(source=models.F("target")), name="flow_not_to_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"

    def clean(self) -> None:
        if self.source_id is not None and self.source_id == self.target_id:
            raise ValidationError({"target": gettext("A touchpoint cannot flow to itself.")})


# What an action can come from: a touchpoint's pain point or opportunity, a gap row, a
# SWOT item. Its source is written as KIND:KEY, the key being the one a vote item of the
# same thing has (maps.votes): pain:TOUCHPOINT, opportunity:TOUCHPOINT, gap:GAP-ID, swot:KEY.
ACTION_SOURCE_KINDS = ("pain", "opportunity", "gap", "swot")
ACTION_SCALE_MIN, ACTION_SCALE_MAX = 1, 5


def action_source(value: object) -> None:
    """An action's source: empty (a free action) or KIND:KEY on one line."""
    if value in ("", None):
        return
    kind, colon, key = str(value).partition(":")
    if not colon or kind not in ACTION_SOURCE_KINDS or not key.strip() or "\n" in key or "\r" in key:
        raise ValidationError(
            gettext("must be empty or KIND:KEY, KIND being one of %(kinds)s")
            % {"kinds": ", ".join(ACTION_SOURCE_KINDS)},
            code="action_source",
        )


def _scale(label) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        label,
        default=3,
        validators=[MinValueValidator(ACTION_SCALE_MIN), MaxValueValidator(ACTION_SCALE_MAX)],
        help_text=_("1 (low) to 5 (high)"),
    )


class Action(models.Model):
    """Something the team will do about a pain point, an opportunity, a gap or a SWOT
    item (or about nothing in particular): map content, in the journeymap/1 document."""

    OPEN, IN_PROGRESS, DONE, DROPPED = "open", "in-progress", "done", "dropped"
    STATUS_CHOICES = [
        (OPEN, _("open")),
        # Translators: the status of an action someone is working on.
        (IN_PROGRESS, _("in progress")),
        # Translators: the status of an action that was carried out.
        (DONE, _("done")),
        # Translators: the status of an action the team decided not to do.
        (DROPPED, _("dropped")),
    ]

    map = models.ForeignKey(JourneyMap, models.CASCADE, related_name="actions", verbose_name=_("map"))
    key = models.SlugField(_("key"), max_length=64)
    title = models.CharField(_("title"), max_length=200, validators=[printable])
    # Translators: how much an action would improve the journey, 1 to 5.
    impact = _scale(_("impact"))
    # Translators: how much work an action takes, 1 to 5.
    effort = _scale(_("effort"))
    owner = models.ForeignKey(
        Department,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="actions",
        # Translators: the department that owns an action.
        verbose_name=_("owner"),
    )
    # Translators: the date an action is due.
    due = models.DateField(_("due"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=STATUS_CHOICES, default=OPEN)
    stage = models.ForeignKey(
        Stage, models.SET_NULL, null=True, blank=True, related_name="actions", verbose_name=_("stage")
    )
    source = models.CharField(
        # Translators: what an action was made from (a pain point, a gap...).
        _("source"),
        max_length=400,
        blank=True,
        validators=[action_source, printable],
    )
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["map", "order", "id"]
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        constraints = [
            models.UniqueConstraint(fields=["map", "key"], name="action_unique_key"),
            models.CheckConstraint(
                condition=Q(impact__gte=ACTION_SCALE_MIN, impact__lte=ACTION_SCALE_MAX), name="action_impact_range"
            ),
            models.CheckConstraint(
                condition=Q(effort__gte=ACTION_SCALE_MIN, effort__lte=ACTION_SCALE_MAX), name="action_effort_range"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def source_kind(self) -> str:
        """pain, opportunity, gap, swot, or "" for a free action."""
        return self.source.partition(":")[0] if self.source else ""


SUMMARY_MAX_LENGTH = 500


def _text_lookups(lookups: dict) -> dict:
    """`summary` lookups as lookups of the stored text, the field's name before
    summaries were kept as msgids."""
    return {
        ("summary_text" + name[len("summary") :] if name == "summary" or name.startswith("summary__") else name): value
        for name, value in lookups.items()
    }


class RevisionQuerySet(models.QuerySet):
    """Filtering by `summary` (and `summary__contains`...) filters by the text as written."""

    def filter(self, *args, **kwargs) -> RevisionQuerySet:
        return super().filter(*args, **_text_lookups(kwargs))

    def exclude(self, *args, **kwargs) -> RevisionQuerySet:
        return super().exclude(*args, **_text_lookups(kwargs))


class Revision(models.Model):
    """One change to a map: who, when, a line saying what, and the difference it made to
    the map's journeymap/1 document (maps.revisions), with the whole document now and then.

    The line is kept twice: as it was said (`said`, a maps.said.Said as JSON: its English
    msgid and values), so that each reader reads it in their own language, and as the
    author read it (`summary_text`), for searching and for revisions from before `said`.
    `summary` is the line in the active language.
    """

    map = models.ForeignKey(JourneyMap, models.CASCADE, related_name="revisions", verbose_name=_("map"))
    # Translators: the number of a revision of a map.
    number = models.PositiveIntegerField(_("number"))  # the map's version after this change
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="revisions",
        verbose_name=_("user"),
    )
    # Translators: when a revision was made.
    at = models.DateTimeField(_("at"), default=timezone.now)
    summary_text = models.CharField(_("summary as written"), max_length=SUMMARY_MAX_LENGTH)
    said = models.JSONField(_("summary as said"), null=True, blank=True, editable=False)
    # The stage the change is about, for the history's filter; blank for the whole map.
    stage = models.CharField(_("stage"), max_length=64, blank=True)
    delta = models.BinaryField(_("delta"))
    checkpoint = models.BinaryField(_("checkpoint"), null=True, blank=True)
    # Set on a revision that undid another, and on the one it undid.
    undoes = models.OneToOneField(
        "self", models.SET_NULL, null=True, blank=True, related_name="undone_by", verbose_name=_("undoes")
    )
    # The form the change came from, so that the same form sent twice (a double click)
    # is saved once.
    token = models.CharField(_("token"), max_length=64, blank=True, db_index=True)

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["map", "-number"]
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        constraints = [
            models.UniqueConstraint(fields=["map", "number"], name="revision_unique_number"),
        ]
        indexes = [models.Index(fields=["map", "user", "-number"], name="revision_by_user")]

    def __str__(self) -> str:
        return f"{self.map} #{self.number}: {self.summary}"

    @property
    def summary(self) -> str:
        """What the change was, in the active language (as written, for an old revision)."""
        said = self.summary_said
        return self.summary_text if said is None else str(said)

    @summary.setter
    def summary(self, value: Said | str) -> None:
        """A Said is kept as said and as the active language writes it; a text as it is."""
        if isinstance(value, Said):
            self.said, self.summary_text = value.as_json(), str(value)[:SUMMARY_MAX_LENGTH]
        else:
            self.said, self.summary_text = None, str(value)[:SUMMARY_MAX_LENGTH]

    @property
    def summary_said(self) -> Said | None:
        """The summary as it was said; None for a revision that has only its text."""
        if self.said is None:
            return None
        try:
            return Said.from_json(self.said)
        except ValueError:
            return None

    @property
    def summary_value(self) -> Said | str:
        """The summary as a value of another Said ("undid: ..."): said if it can be."""
        return self.summary_said or self.summary_text


class TrashItem(models.Model):
    """Something deleted, kept whole for 30 days so that it can be brought back with its
    links: a stage or touchpoint as document items (maps.trash), a library item, a map."""

    MAP, STAGE, TOUCHPOINT, LIBRARY = "map", "stage", "touchpoint", "library"
    # What a thing in the trash is, shown under its name.
    KIND_CHOICES = [(MAP, _("map")), (STAGE, _("stage")), (TOUCHPOINT, _("touchpoint")), (LIBRARY, _("library item"))]

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="trash", verbose_name=_("workspace"))
    map = models.ForeignKey(
        JourneyMap, models.CASCADE, null=True, blank=True, related_name="trash", verbose_name=_("map")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=KIND_CHOICES)
    name = models.CharField(_("name"), max_length=300)
    payload = models.JSONField(_("payload"), default=dict)
    deleted = models.DateTimeField(_("deleted"), default=timezone.now)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("deleted by")
    )

    class Meta:
        ordering = ["workspace", "-deleted"]
        verbose_name = _("trash item")
        verbose_name_plural = _("trash items")

    def __str__(self) -> str:
        # Translators: a thing in the trash: what it is ("stage") and its name.
        return gettext("%(kind)s %(name)s") % {"kind": self.get_kind_display(), "name": self.name}


class UserSettings(models.Model):
    """What a person chose for themselves, whatever browser they sign in from."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="journeymap_settings", verbose_name=_("user")
    )
    # Empty: follow the browser (Accept-Language).
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)

    class Meta:
        verbose_name = _("user settings")
        verbose_name_plural = _("user settings")

    def __str__(self) -> str:
        language = self.language or gettext("browser language")
        return f"{self.user}: {language}"

    @classmethod
    def language_of(cls, user) -> str:
        """The language `user` chose, or "" to follow the browser."""
        if not user.is_authenticated:
            return ""
        return cls.objects.filter(user=user).values_list("language", flat=True).first() or ""

    @classmethod
    def choose_language(cls, user, language: str) -> None:
        cls.objects.update_or_create(user=user, defaults={"language": language})


# --- workshops: members, comments, votes, share links ------------------------------------


class Invitation(models.Model):
    """A link that makes whoever opens it (signed in) a member with `role`, until it
    expires or an owner revokes it. Only a hash of its secret is stored: the link is
    shown once, when it is made."""

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="invitations", verbose_name=_("workspace"))
    role = models.CharField(_("role"), max_length=10, choices=Membership.ROLE_CHOICES, default=Membership.EDITOR)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+", verbose_name=_("created by")
    )
    created = models.DateTimeField(_("created"), default=timezone.now)
    expires = models.DateTimeField(_("expires"))
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)
    accepted = models.PositiveIntegerField(_("accepted"), default=0)

    class Meta:
        ordering = ["workspace", "-created"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.workspace} ({self.role})"

    @property
    def active(self) -> bool:
        return self.revoked is None and self.expires > timezone.now()


class Comment(models.Model):
    """A comment on a map, or on one of its stages, touchpoints or gap rows. Targets are
    named by key (a gap row by its stable id), not by row: undo and restore rewrite a
    map's rows but keep its keys, and a comment must outlive both."""

    MAP, STAGE, TOUCHPOINT, GAP = "map", "stage", "touchpoint", "gap"
    TARGET_CHOICES = [(MAP, _("map")), (STAGE, _("stage")), (TOUCHPOINT, _("touchpoint")), (GAP, _("gap"))]

    map = models.ForeignKey(JourneyMap, models.CASCADE, related_name="comments", verbose_name=_("map"))
    target = models.CharField(_("about"), max_length=10, choices=TARGET_CHOICES, default=MAP)
    stage_key = models.CharField(_("stage"), max_length=64, blank=True)
    touchpoint_key = models.CharField(_("touchpoint"), max_length=64, blank=True)
    # A gap row: code|stage|persona|touchpoint|content|role (maps.gaps.Gap.id).
    gap = models.CharField(_("gap"), max_length=400, blank=True)
    parent = models.ForeignKey(
        "self", models.CASCADE, null=True, blank=True, related_name="replies", verbose_name=_("reply to")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+", verbose_name=_("author")
    )
    body = models.TextField(_("comment"), max_length=5000, validators=[printable])
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in", verbose_name=_("mentions")
    )
    created = models.DateTimeField(_("created"), default=timezone.now)
    edited = models.DateTimeField(_("edited"), null=True, blank=True)
    resolved = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    class Meta:
        ordering = ["map", "created", "id"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        constraints = [
            models.CheckConstraint(
                condition=Q(target__in=["map", "stage", "touchpoint", "gap"]), name="comment_target"
            ),
        ]

    def __str__(self) -> str:
        return self.body[:60]


class VoteSession(models.Model):
    """Dot voting on a map's pain points, opportunities and gap rows: each member has
    `votes_each` dots to place (several on one item if they like) until it closes."""

    map = models.ForeignKey(JourneyMap, models.CASCADE, related_name="vote_sessions", verbose_name=_("map"))
    title = models.CharField(_("question"), max_length=200, validators=[printable])
    votes_each = models.PositiveSmallIntegerField(
        _("votes per member"), default=3, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    # Hidden: nobody sees the counts (only their own dots) until the vote closes.
    hidden = models.BooleanField(_("hide results until the vote closes"), default=True)
    ends = models.DateTimeField(_("ends"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+", verbose_name=_("opened by")
    )
    created = models.DateTimeField(_("opened"), default=timezone.now)
    closed = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["map", "-created"]
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        constraints = [
            models.CheckConstraint(condition=Q(votes_each__gte=1, votes_each__lte=20), name="vote_session_dots"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.closed is None and (self.ends is None or self.ends > timezone.now())


class VoteItem(models.Model):
    """One thing to vote on, written down when the vote opens, so the ranking keeps its
    words even if the map changes afterwards."""

    PAIN, OPPORTUNITY, GAP = "pain", "opportunity", "gap"
    KIND_CHOICES = [(PAIN, _("pain point")), (OPPORTUNITY, _("opportunity")), (GAP, _("gap"))]

    session = models.ForeignKey(VoteSession, models.CASCADE, related_name="items", verbose_name=_("vote"))
    kind = models.CharField(_("kind"), max_length=12, choices=KIND_CHOICES)
    key = models.CharField(_("key"), max_length=400)  # pain:TOUCHPOINT, opportunity:TOUCHPOINT, gap:GAP-ID
    stage_key = models.CharField(_("stage"), max_length=64, blank=True)
    label = models.TextField(_("what"))
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["session", "order", "id"]
        verbose_name = _("vote item")
        verbose_name_plural = _("vote items")
        constraints = [models.UniqueConstraint(fields=["session", "key"], name="vote_item_unique_key")]

    def __str__(self) -> str:
        return self.label[:60]


class VoteDot(models.Model):
    """One dot a member placed on an item."""

    item = models.ForeignKey(VoteItem, models.CASCADE, related_name="dots", verbose_name=_("item"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+", verbose_name=_("member"))
    created = models.DateTimeField(_("placed"), default=timezone.now)

    class Meta:
        ordering = ["item", "created", "id"]
        verbose_name = _("dot")
        verbose_name_plural = _("dots")

    def __str__(self) -> str:
        return f"{self.user} → {self.item}"


class ShareLink(models.Model):
    """A secret read-only link to one map for people outside the workspace: the diagram,
    the gap list and the matrices, nothing else. Only a hash of its secret is stored."""

    map = models.ForeignKey(JourneyMap, models.CASCADE, related_name="share_links", verbose_name=_("map"))
    token_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(_("label"), max_length=200, blank=True, validators=[printable])
    password = models.CharField(_("password"), max_length=200, blank=True)  # make_password's hash, or empty
    expires = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+", verbose_name=_("created by")
    )
    created = models.DateTimeField(_("created"), default=timezone.now)
    views = models.PositiveIntegerField(_("views"), default=0)

    class Meta:
        ordering = ["map", "-created"]
        verbose_name = _("share link")
        verbose_name_plural = _("share links")

    def __str__(self) -> str:
        return self.label or str(self.map)

    @property
    def active(self) -> bool:
        return self.revoked is None and (self.expires is None or self.expires > timezone.now())


# --- security: the audit log and who is signed in where ----------------------------------


class AuditEvent(models.Model):
    """One security event: who did what, when, from which address (maps/audit.py writes
    them and says them in words). Account events (signing in) have no workspace: an owner
    sees those of the workspace's members."""

    SIGN_IN, SIGN_IN_FAILED, LOCKED_OUT = "sign-in", "sign-in-failed", "locked-out"
    PASSWORD_CHANGED, SIGNED_OUT_EVERYWHERE = "password-changed", "signed-out-everywhere"
    ROLE_CHANGED, MEMBER_REMOVED, MEMBER_LEFT = "role-changed", "member-removed", "member-left"
    INVITED, INVITATION_REVOKED, INVITATION_ACCEPTED = "invited", "invitation-revoked", "invitation-accepted"
    SHARE_CREATED, SHARE_REVOKED = "share-created", "share-revoked"
    EXPORTED, RESTORED = "exported", "restored"
    IMPORTED, BACKED_UP = "imported", "backed-up"
    KIND_CHOICES = [
        (SIGN_IN, _("Sign-in")),
        (SIGN_IN_FAILED, _("Failed sign-in")),
        (LOCKED_OUT, _("Lock-out")),
        (PASSWORD_CHANGED, _("Password changed")),
        (SIGNED_OUT_EVERYWHERE, _("Signed out everywhere")),
        (ROLE_CHANGED, _("Role changed")),
        (MEMBER_REMOVED, _("Member removed")),
        (MEMBER_LEFT, _("Member left")),
        (INVITED, _("Invitation")),
        (INVITATION_REVOKED, _("Invitation revoked")),
        (INVITATION_ACCEPTED, _("Invitation accepted")),
        (SHARE_CREATED, _("Share link created")),
        (SHARE_REVOKED, _("Share link revoked")),
        (EXPORTED, _("Export")),
        (RESTORED, _("Restore")),
        (IMPORTED, _("Import")),
        (BACKED_UP, _("Workspace backup")),
    ]

    created = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    kind = models.CharField(_("what"), max_length=32, choices=KIND_CHOICES)
    workspace = models.ForeignKey(
        Workspace, models.CASCADE, null=True, blank=True, related_name="audit_events", verbose_name=_("workspace")
    )
    # The person the event is about (who signed in, who changed a role); kept as typed for
    # a failed sign-in, whether or not such an account exists.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name=_("who"),
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    # What the sentence needs (a map's name, a role): plain values, said in words when shown.
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["workspace", "-created"], name="audit_workspace_created"),
            models.Index(fields=["user", "-created"], name="audit_user_created"),
        ]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M} {self.kind} {self.username}"


class AccountSession(models.Model):
    """A session a person signed in with, so that "sign out everywhere" can end them all
    whatever the session store (the stores themselves cannot be searched by user)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="account_sessions", verbose_name=_("user")
    )
    session_key = models.CharField(max_length=40, unique=True)
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("signed-in session")
        verbose_name_plural = _("signed-in sessions")

    def __str__(self) -> str:
        return f"{self.user} {self.created:%Y-%m-%d %H:%M}"
