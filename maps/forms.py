"""One ModelForm per editable thing. The rules (lengths, ranges, URL schemes, no control
characters, converted <= entered) are the model fields' and Model.clean()'s, which a
ModelForm runs: a form restates none. What forms add is their own: choices limited to
the map's workspace, and keys made from the name and unique in their list."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from .changes import free_key
from .models import (
    PERIOD_RULE,
    Action,
    BuyingRole,
    Comment,
    ContentAsset,
    Department,
    JourneyMap,
    MapPersona,
    Metric,
    Persona,
    QualificationCriterion,
    ShareLink,
    Stage,
    StageAnswer,
    SwotItem,
    Touchpoint,
    VoteSession,
    Workspace,
)
from .stage_templates import LANGUAGES, template_choices
from .votes import check_ends


class LinesField(forms.CharField):
    """A list of short texts edited as one line each (questions)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class PercentField(forms.FloatField):
    """A rate typed as people say it ("20", "20 %", "12.5"), kept as 0 to 1 like the model."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "size": "6"})

    def prepare_value(self, value):
        if isinstance(value, (int, float)):
            return f"{value * 100:.10g}"
        return value

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().removesuffix("%").strip().replace(",", ".")
        number = super().to_python(value)
        if number is None:
            return None
        if not 0 <= number <= 100:
            raise forms.ValidationError(_("Enter a percentage from 0 to 100."), code="percent_range")
        return number / 100

    def validate(self, value):
        super().validate(value)


class KeyedForm(forms.ModelForm):
    """Keys are optional in forms: left blank, one is made from the name."""

    key_source = "name"
    key_fallback = "item"

    def sibling_keys(self) -> set[str]:
        raise NotImplementedError

    def clean_key(self) -> str:
        key = self.cleaned_data.get("key") or ""
        taken = self.sibling_keys()
        if self.instance.pk:
            taken.discard(self.instance.key)
        if key and key in taken:
            raise forms.ValidationError(
                _('"%(key)s" is already used here; keys must be unique.'), code="taken", params={"key": key}
            )
        return key

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("key") and cleaned.get(self.key_source):
            taken = self.sibling_keys()
            if self.instance.pk:
                taken.discard(self.instance.key)
            cleaned["key"] = free_key(cleaned[self.key_source], taken, self.key_fallback)
        return cleaned


class MapForm(KeyedForm):
    key_fallback = "map"

    class Meta:
        model = JourneyMap
        fields = ["name", "key", "description", "goal", "language", "review_every_days"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2}), "goal": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, workspace: Workspace, **kwargs):
        self.workspace = workspace
        super().__init__(*args, **kwargs)
        self.fields["key"].required = False
        self.fields["key"].help_text = _("Used in URLs and exports; made from the name if left blank.")
        # Left out of the data, the map keeps its language (for a new one, the person's).
        self.fields["language"].required = False
        # Left out of the data (a new map, an older form), the map keeps its cadence.
        if "review_every_days" in self.fields:
            self.fields["review_every_days"].required = False

    def clean_language(self) -> str:
        return self.cleaned_data.get("language") or self.instance.language

    def clean_review_every_days(self) -> int:
        days = self.cleaned_data.get("review_every_days")
        return self.instance.review_every_days if days is None else days

    def sibling_keys(self) -> set[str]:
        return set(self.workspace.maps.values_list("key", flat=True))


class MapCreateForm(MapForm):
    START_CHOICES = [
        ("template", gettext_lazy("From a stage template")),
        ("blank", gettext_lazy("Blank map")),
        ("copy", gettext_lazy("Copy of another map")),
    ]

    start = forms.ChoiceField(
        # Translators: how a new map starts (from a template, blank, or as a copy).
        label=gettext_lazy("Start"),
        choices=START_CHOICES,
        initial="template",
        widget=forms.RadioSelect,
    )
    template = forms.ChoiceField(label=gettext_lazy("Template"), choices=(), required=False)
    source = forms.ModelChoiceField(
        queryset=JourneyMap.objects.none(), required=False, label=gettext_lazy("Map to copy")
    )

    class Meta(MapForm.Meta):
        fields = ["name", "key", "description", "goal", "language"]

    def __init__(self, *args, workspace: Workspace, **kwargs):
        super().__init__(*args, workspace=workspace, **kwargs)
        # The templates are named in the person's language; their stages come in the map's.
        language = get_language()
        self.fields["template"].choices = template_choices(language if language in LANGUAGES else "en")
        self.fields["source"].queryset = workspace.maps.filter(deleted=None)

    def clean(self):
        cleaned = super().clean()
        start = cleaned.get("start")
        if start == "template" and not cleaned.get("template"):
            self.add_error("template", _("Pick a template."))
        if start == "copy" and not cleaned.get("source"):
            self.add_error("source", _("Pick the map to copy."))
        return cleaned


class StageForm(KeyedForm):
    key_fallback = "stage"
    questions = LinesField(
        required=False,
        help_text=gettext_lazy(
            "One question per line. A question reworded on its own line keeps its answer; "
            "removing a question removes its answer too (Undo brings it back)."
        ),
    )

    class Meta:
        model = Stage
        fields = [
            "name",
            "key",
            "goal",
            "questions",
            "lead",
            "contributors",
            "required_roles",
            "content",
            "entered",
            "converted",
            "target_conversion",
            "handoff_sla",
            "qualification_threshold",
        ]
        widgets = {
            "goal": forms.Textarea(attrs={"rows": 2}),
            "handoff_sla": forms.Textarea(attrs={"rows": 2}),
            "contributors": forms.CheckboxSelectMultiple,
            "required_roles": forms.CheckboxSelectMultiple,
            "content": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, journey_map: JourneyMap, **kwargs):
        self.journey_map = journey_map
        super().__init__(*args, **kwargs)
        workspace = journey_map.workspace
        self.fields["key"].required = False
        self.fields["lead"].queryset = workspace.departments.all()
        self.fields["lead"].empty_label = _("— no lead yet —")
        self.fields["contributors"].queryset = workspace.departments.all()
        self.fields["required_roles"].queryset = workspace.roles.all()
        self.fields["content"].queryset = workspace.content.all()
        self.fields["content"].label = _("Content linked to this stage")
        self.fields["content"].label_from_instance = _with_status
        self.fields["target_conversion"] = PercentField(
            required=False,
            label=_("Target conversion (%)"),
            help_text=_("The share of those who enter that should go on, e.g. 20 for 20 %."),
        )
        self._agreement_fields()

    def _agreement_fields(self) -> None:
        """A box per side of the hand-off: this stage's lead and the next stage's."""
        stage = self.instance
        following = None
        if stage.pk is not None:
            following = self.journey_map.stages.filter(order__gt=stage.order).select_related("lead").first()
        sides = [("agreed_lead", stage.agreed_by_lead, stage.lead if stage.lead_id else None, True)]
        if following is not None:
            sides.append(("agreed_next", stage.agreed_by_next, following.lead, False))
        for name, agreed, department, own in sides:
            if department is not None:
                label = _("Qualification agreed by %(department)s") % {"department": department.name}
            elif own:
                label = _("Qualification agreed by this stage’s lead")
            else:
                label = _("Qualification agreed by the next stage’s lead")
            self.fields[name] = forms.BooleanField(
                required=False,
                initial=agreed is not None,
                label=label,
                help_text=_("Agreed on %(date)s.") % {"date": agreed.isoformat()} if agreed else "",
            )

    def sibling_keys(self) -> set[str]:
        return set(self.journey_map.stages.values_list("key", flat=True))


def _with_status(asset: ContentAsset) -> str:
    # Translators: a content asset in a list to tick: its title and its status ("draft").
    return _("%(title)s (%(status)s)") % {"title": asset.title, "status": asset.get_status_display().lower()}


class AnswerForm(forms.ModelForm):
    """The answer to one guiding question. Left empty (answer and evidence), it clears
    the answer. The question itself is named by the URL; the form carries its text too,
    so that an answer never lands on a question reworded meanwhile."""

    question = forms.CharField(widget=forms.HiddenInput, required=False)
    evidence = forms.URLField(
        label=gettext_lazy("Evidence"),
        max_length=1000,
        required=False,
        assume_scheme="https",
        help_text=gettext_lazy("A link to what shows it: a report, a recording, a dashboard."),
    )

    class Meta:
        model = StageAnswer
        fields = ["answer", "evidence"]
        widgets = {"answer": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, question: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked = question if question is not None else self.instance.question
        self.fields["question"].initial = question
        self.fields["answer"].required = False
        self.fields["answer"].help_text = _("Leave the answer and the evidence empty to clear the answer.")

    def clean_question(self) -> str:
        sent = self.cleaned_data.get("question") or self.asked
        if sent != self.asked:
            raise forms.ValidationError(_("The questions of this stage changed meanwhile; reload the page."))
        return sent

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("evidence") and not cleaned.get("answer"):
            self.add_error("answer", _("Write the answer the evidence shows."))
        return cleaned


class SwotItemForm(forms.ModelForm):
    class Meta:
        model = SwotItem
        fields = ["kind", "text", "stage"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, journey_map: JourneyMap, **kwargs):
        self.journey_map = journey_map
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = journey_map.stages.all()
        self.fields["stage"].empty_label = _("The whole map")
        self.fields["kind"].widget = forms.HiddenInput() if self.instance.pk is None else self.fields["kind"].widget


class MetricForm(forms.ModelForm):
    # The period the actual is for: kept as the KPI's history (maps.changes.save_metric).
    period = forms.CharField(
        required=False,
        max_length=7,
        validators=[PERIOD_RULE],
        label=gettext_lazy("Period of this actual"),
        help_text=gettext_lazy("A month (2026-10) or a quarter (2026-Q3): the actual is kept in the KPI’s history."),
    )

    class Meta:
        model = Metric
        fields = ["name", "direction", "target", "actual", "period", "unit"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left out of the data (an older form, a script), the KPI keeps its direction.
        self.fields["direction"].required = False

    def clean_direction(self) -> str:
        return self.cleaned_data.get("direction") or self.instance.direction

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("period") and cleaned.get("actual") is None and "actual" not in self.errors:
            self.add_error("actual", _("Enter the actual reached in this period."))
        return cleaned


class CriterionForm(forms.ModelForm):
    class Meta:
        model = QualificationCriterion
        fields = ["kind", "points", "description"]


class ActionForm(forms.ModelForm):
    """An action: its rules (impact and effort 1..5, the source's shape) are the model's.
    The source is set by the link that opened the form and carried as a hidden field."""

    class Meta:
        model = Action
        fields = ["title", "impact", "effort", "owner", "due", "status", "stage", "source"]
        widgets = {
            "impact": forms.NumberInput(attrs={"min": 1, "max": 5}),
            "effort": forms.NumberInput(attrs={"min": 1, "max": 5}),
            "due": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "source": forms.HiddenInput,
        }

    def __init__(self, *args, journey_map: JourneyMap, **kwargs):
        self.journey_map = journey_map
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = journey_map.workspace.departments.all()
        self.fields["owner"].empty_label = _("— no owner yet —")
        self.fields["stage"].queryset = journey_map.stages.all()
        self.fields["stage"].empty_label = _("— the whole journey —")
        self.fields["impact"].help_text = _("1 (little) to 5 (a lot better journey)")
        self.fields["effort"].help_text = _("1 (an afternoon) to 5 (a project)")


class TouchpointForm(KeyedForm):
    key_fallback = "touchpoint"
    next_touchpoints = forms.ModelMultipleChoiceField(
        queryset=Touchpoint.objects.none(),
        required=False,
        label=gettext_lazy("Flows to"),
        widget=forms.CheckboxSelectMultiple,
        # Loops are allowed: a buyer may go back (a failed trial returns to nurture). Only a
        # flow to a later stage counts as a path forward (docs/gaps.md, no-path-forward).
        help_text=gettext_lazy(
            "The touchpoints a buyer goes to next: in this stage, a later one, or back to an earlier one (a loop)."
        ),
    )

    class Meta:
        model = Touchpoint
        fields = [
            "name",
            "key",
            "stage",
            "description",
            "channel",
            "owner",
            "personas",
            "emotion",
            "pain_point",
            "opportunity",
            "content",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "pain_point": forms.Textarea(attrs={"rows": 2}),
            "opportunity": forms.Textarea(attrs={"rows": 2}),
            "personas": forms.CheckboxSelectMultiple,
            "content": forms.CheckboxSelectMultiple,
            "emotion": forms.Select(
                choices=[
                    # Translators: how a buyer feels at a touchpoint, from +2 to −2.
                    ("", gettext_lazy("— not rated —")),
                    (2, gettext_lazy("+2 delighted")),
                    (1, gettext_lazy("+1 positive")),
                    (0, gettext_lazy("0 neutral")),
                    (-1, gettext_lazy("−1 frustrated")),
                    (-2, gettext_lazy("−2 very frustrated")),
                ]
            ),
        }

    def __init__(self, *args, journey_map: JourneyMap, **kwargs):
        self.journey_map = journey_map
        super().__init__(*args, **kwargs)
        workspace = journey_map.workspace
        self.fields["key"].required = False
        self.fields["stage"].queryset = journey_map.stages.all()
        self.fields["stage"].empty_label = None
        self.fields["owner"].queryset = workspace.departments.all()
        self.fields["owner"].empty_label = _("— no owner yet —")
        self.fields["personas"].queryset = Persona.objects.filter(map_entries__map=journey_map).order_by(
            "map_entries__order"
        )
        self.fields["personas"].help_text = _("Personas of this map; add more from the library.")
        self.fields["content"].queryset = workspace.content.all()
        others = journey_map.touchpoints.select_related("stage").order_by("stage__order", "order")
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
            self.fields["next_touchpoints"].initial = [f.target_id for f in self.instance.flows_out.all()]
        self.fields["next_touchpoints"].queryset = others
        self.fields["next_touchpoints"].label_from_instance = lambda tp: f"{tp.stage.name} › {tp.name}"

    def sibling_keys(self) -> set[str]:
        return set(self.journey_map.touchpoints.values_list("key", flat=True))


class PersonaForm(KeyedForm):
    key_fallback = "persona"

    class Meta:
        model = Persona
        fields = [
            "name",
            "key",
            "role",
            "title",
            "influence",
            "goals",
            "motivations",
            "triggers",
            "fears",
            "background",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 2})
            for name in ("goals", "motivations", "triggers", "fears", "background")
        }

    def __init__(self, *args, workspace: Workspace, **kwargs):
        self.workspace = workspace
        super().__init__(*args, **kwargs)
        self.fields["key"].required = False
        self.fields["role"].queryset = workspace.roles.all()
        self.fields["role"].empty_label = _("— no buying role —")
        self.fields["influence"].widget = forms.Select(choices=[("", "—")] + [(i, str(i)) for i in range(1, 6)])

    def sibling_keys(self) -> set[str]:
        return set(self.workspace.personas.values_list("key", flat=True))


class ContentAssetForm(KeyedForm):
    key_source = "title"
    key_fallback = "content"
    questions = LinesField(required=False, help_text=gettext_lazy("Questions it answers, one per line."))
    url = forms.URLField(label=gettext_lazy("URL"), max_length=1000, required=False, assume_scheme="https")

    class Meta:
        model = ContentAsset
        fields = ["title", "key", "type", "status", "url", "personas", "questions", "last_reviewed"]
        widgets = {
            "personas": forms.CheckboxSelectMultiple,
            "last_reviewed": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, workspace: Workspace, **kwargs):
        self.workspace = workspace
        super().__init__(*args, **kwargs)
        self.fields["key"].required = False
        self.fields["personas"].queryset = workspace.personas.all()
        self.fields["personas"].label = _("Target personas")

    def sibling_keys(self) -> set[str]:
        return set(self.workspace.content.values_list("key", flat=True))


class DepartmentForm(KeyedForm):
    key_fallback = "department"

    class Meta:
        model = Department
        fields = ["name", "key"]

    def __init__(self, *args, workspace: Workspace, **kwargs):
        self.workspace = workspace
        super().__init__(*args, **kwargs)
        self.fields["key"].required = False

    def sibling_keys(self) -> set[str]:
        return set(self.workspace.departments.values_list("key", flat=True))


class BuyingRoleForm(DepartmentForm):
    key_fallback = "role"

    class Meta:
        model = BuyingRole
        fields = ["name", "key"]

    def sibling_keys(self) -> set[str]:
        return set(self.workspace.roles.values_list("key", flat=True))


class MapPersonaForm(forms.ModelForm):
    class Meta:
        model = MapPersona
        fields = ["persona", "stages"]
        widgets = {"stages": forms.CheckboxSelectMultiple}

    def __init__(self, *args, journey_map: JourneyMap, **kwargs):
        self.journey_map = journey_map
        super().__init__(*args, **kwargs)
        used = journey_map.map_personas.exclude(pk=self.instance.pk).values_list("persona_id", flat=True)
        self.fields["persona"].queryset = journey_map.workspace.personas.exclude(pk__in=list(used))
        self.fields["stages"].queryset = journey_map.stages.all()
        self.fields["stages"].label = _("In scope for")
        self.fields["stages"].help_text = _("Leave all unticked for every stage.")
        if self.instance.pk:
            self.fields["persona"].disabled = True


class CommentForm(forms.ModelForm):
    """A comment or a reply: its text alone (the field's rules: not empty, at most 5000
    characters, no control characters); what it is about comes from the address."""

    class Meta:
        model = Comment
        fields = ["body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 3})}


class ShareLinkForm(forms.ModelForm):
    """A new read-only link: its label, and optionally a password and a last day. The
    secret and the password's hash are made by maps.sharing, not typed."""

    password = forms.CharField(
        label=gettext_lazy("Password"),
        required=False,
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("Optional. Whoever opens the link must type it; leave empty for none."),
    )
    ends = forms.DateField(
        label=gettext_lazy("Works until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Optional. The link stops working after this day."),
    )

    class Meta:
        model = ShareLink
        fields = ["label"]
        help_texts = {"label": gettext_lazy("Who the link is for, so you can tell your links apart.")}

    def clean_ends(self):
        ends = self.cleaned_data.get("ends")
        if ends is not None and ends < timezone.localdate():
            raise forms.ValidationError(_("Pick today or a later day."), code="ends_past")
        return ends

    def expires(self) -> datetime.datetime | None:
        """The last moment of the last day, in the site's time zone: the list then shows
        the day that was picked, not the midnight after it."""
        ends = self.cleaned_data.get("ends")
        if ends is None:
            return None
        return timezone.make_aware(datetime.datetime.combine(ends, datetime.time.max))


# --- dot voting ---


class VoteSessionForm(forms.ModelForm):
    """Open a vote: the question, dots per member, an optional end, hidden or shown counts,
    and whether the gap rows are voted on too (the items are the map's, not the form's)."""

    include_gaps = forms.BooleanField(
        label=gettext_lazy("Vote on the gap rows too"),
        required=False,
        help_text=gettext_lazy("Pain points and opportunities are always on the list."),
    )

    class Meta:
        model = VoteSession
        fields = ["title", "votes_each", "ends", "hidden"]
        widgets = {
            "votes_each": forms.NumberInput(attrs={"min": 1, "max": 20, "size": 4}),
            "ends": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }
        help_texts = {
            "votes_each": gettext_lazy("1 to 20 dots; several may go on one item."),
            "ends": gettext_lazy("Optional. Nobody can vote after this time."),
        }

    def clean_ends(self):
        ends = self.cleaned_data.get("ends")
        check_ends(ends)
        return ends
