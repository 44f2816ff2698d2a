"""Template access to maps.marks: `{% marks_css %}`, `{{ severity|mark_symbol }}`, `{{ severity|mark_word }}`,
and to the gap codes' short labels: `{{ gap.code|gap_label }}`."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html

from maps import marks
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
