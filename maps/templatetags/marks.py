"""Template access to maps.marks: `{% marks_css %}`, `{{ severity|mark_symbol }}`, `{{ severity|mark_word }}`,
and to the gap codes' short labels: `{{ gap.code|gap_label }}`."""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

from maps import marks
from maps.gaps import code_label

register = template.Library()


@register.simple_tag
def marks_css() -> str:
    # Only our own constant colours go in: nothing a person typed reaches this <style>.
    return mark_safe(f"<style>{marks.css_properties()}</style>")


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
