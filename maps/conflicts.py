"""Two people editing one thing: merge what does not collide, refuse what does.

Every edit form carries, beside each field, the value the person saw when the form was
drawn (Django's `show_hidden_initial`). When the form comes back, each field is one of:
- changed by nobody: saved as it is;
- changed by someone else only (stored value != what the person saw, and the person
  left it alone): the other person's value is kept, not overwritten with the old one;
- changed by this person only: saved;
- changed by both, to different values: a conflict. Nothing is saved; the person gets
  the form back with their input and what the other person changed (old -> new, by
  whom). The form they get back counts the other person's values as seen, so sending
  it again applies theirs anyway.

`merge` runs inside maps.changes.editing, under the map's lock, against the object as
stored at that moment, so no change can slip in between the check and the save.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.db import models
from django.http import QueryDict


@dataclass
class Clash:
    """One field both people changed: what it was, what they made it, what you typed."""

    name: str
    label: str
    before: str
    theirs: str
    yours: str


@dataclass
class Conflict(Exception):
    clashes: list[Clash]
    by: list[str] = field(default_factory=list)
    # The form's data with "what you saw" moved on to the stored values: sent back, the
    # person's own values then overwrite the other person's (apply anyway).
    data: QueryDict | None = None


def track(form: forms.BaseForm) -> forms.BaseForm:
    """Make `form` carry what the person saw beside each field."""
    for form_field in form.fields.values():
        form_field.show_hidden_initial = True
    return form


def _seen(form: forms.BaseForm, name: str) -> object:
    bound = form[name]
    return form._widget_data_value(form.fields[name].hidden_widget(), bound.html_initial_name)


def _tracked(form: forms.BaseForm) -> bool:
    return any(form[name].html_initial_name in form.data for name in form.fields)


def _display(form_field: forms.Field, value: object) -> str:
    """A value as a person reads it: choice labels rather than ids."""
    if isinstance(form_field, forms.ModelMultipleChoiceField):
        ids = {str(v) for v in (value or [])}
        return ", ".join(str(obj) for obj in form_field.queryset if str(obj.pk) in ids) or "—"
    if isinstance(form_field, forms.ModelChoiceField):
        obj = form_field.queryset.filter(pk=value).first() if value not in (None, "") else None
        return str(obj) if obj else "—"
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value) or "—"
    return str(value) if value not in (None, "") else "—"


def stored_form(form: forms.ModelForm) -> forms.ModelForm:
    """The same kind of form, unbound, on the object as it is stored right now."""
    fresh = type(form.instance).objects.get(pk=form.instance.pk)
    context = {name: getattr(form, name) for name in ("journey_map", "workspace") if hasattr(form, name)}
    return type(form)(instance=fresh, prefix=form.prefix, **context)


def merge(form: forms.ModelForm) -> None:
    """Fold the other people's changes into a valid `form` of a stored object before it
    is saved; raise Conflict when both changed a field to different values. Fields the
    form does not show (such as the order) are always taken as stored."""
    stored = stored_form(form)
    for model_field in form.instance._meta.concrete_fields:
        if model_field.name not in form.fields:
            setattr(form.instance, model_field.attname, getattr(stored.instance, model_field.attname))
    if not _tracked(form):
        return  # a form drawn without what-you-saw values: the person's values win
    clashes, keep_theirs = [], []
    for name, form_field in form.fields.items():
        if form_field.disabled:
            continue
        now = stored[name].initial
        seen = _seen(form, name)
        if not form_field.has_changed(now, seen):
            continue  # nobody else touched it
        if name not in form.changed_data:
            keep_theirs.append(name)
        elif form_field.has_changed(now, form[name].data):
            clashes.append(
                Clash(
                    name,
                    str(form_field.label or name),
                    _display(form_field, seen),
                    _display(form_field, stored[name].value()),
                    _display(form_field, form[name].value()),
                )
            )
    if clashes:
        raise Conflict(clashes, data=_moved_on(form, stored))
    for name in keep_theirs:
        _keep_stored(form, stored, name)


def _keep_stored(form: forms.ModelForm, stored: forms.ModelForm, name: str) -> None:
    """Save the stored value of `name` rather than the form's."""
    model_field = _model_field(form, name)
    if model_field is not None and not model_field.many_to_many:
        setattr(form.instance, model_field.attname, getattr(stored.instance, model_field.attname))
    # ModelForm._save_m2m and our own extras (flows) only write what cleaned_data holds.
    form.cleaned_data.pop(name, None)


def _model_field(form: forms.ModelForm, name: str) -> models.Field | None:
    try:
        return form.instance._meta.get_field(name)
    except Exception:  # a form field of our own, such as the flows of a touchpoint
        return None


def _moved_on(form: forms.BaseForm, stored: forms.BaseForm) -> QueryDict:
    data = form.data.copy()
    for name in form.fields:
        value = stored[name].value()
        key = form[name].html_initial_name
        if isinstance(value, (list, tuple)):
            data.setlist(key, [str(v) for v in value])
        else:
            data[key] = "" if value is None else str(value)
    return data
