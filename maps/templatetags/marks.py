"""Template access to maps.marks: `{% marks_css %}`, `{{ severity|mark_symbol }}`, `{{ severity|mark_word }}`,
the gap codes' short labels: `{{ gap.code|gap_label }}`, and the what-if's numbers
(`{{ count|customers }}`, `{{ gain|gain_sentence }}`)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html

from maps import marks, whatif
from maps.gaps import code_label
from maps.styles import marks_stylesheet

register = template.Library()


@register.simple_tag
def marks_css() -> str:
    # A stylesheet of its own (maps/styles.py), not a <style>: the Content Security Policy
    # refuses inline styles. Its fingerprint in the URL makes a new colour a new file.
    _text, fingerprint = marks_stylesheet()
    return format_html('<link rel="stylesheet" href="{}?v={}">', reverse("marks_css"), fingerprint)


@register.filter
def mark_symbol(severity: str | None) -> str:
    return marks.SEVERITY.get(severity or None, marks.SEVERITY[None]).symbol


@register.filter
def mark_word(severity: str | None) -> str:
    return str(marks.SEVERITY.get(severity or None, marks.SEVERITY[None]).word)


# The other marks by name: on and off track (KPIs), a review that is due.
_OTHER_MARKS = {"on-track": marks.ON_TRACK, "off-track": marks.OFF_TRACK, "review-due": marks.REVIEW_DUE}


@register.filter
def track_symbol(name: str) -> str:
    return _OTHER_MARKS[name].symbol


@register.filter
def track_word(name: str) -> str:
    return str(_OTHER_MARKS[name].word)


@register.filter
def percent(rate: float | None) -> str:
    return marks.percent(rate)


@register.filter
def counted(severity: str, n: int) -> str:
    return marks.counted(severity, n)


@register.filter
def gap_label(code: str) -> str:
    """The short label of a gap code (maps.gaps.CODE_LABELS) in the active language."""
    return code_label(code)


@register.filter
def customers(count: float | None) -> str:
    """A number of customers with one decimal, as the what-if says it (maps.whatif)."""
    return "–" if count is None else whatif.customers(count)


@register.filter
def customers_change(count: float, now: float) -> str:
    """ "+3.1", "−0.4" or "±0": customers won at a tried rate against now."""
    difference = count - now
    text = whatif.customers(abs(difference))
    if text == whatif.customers(0):
        return "±" + text
    return ("+" if difference > 0 else "−") + text


@register.filter
def gain_sentence(gain) -> str:
    return whatif.sentence(gain)
