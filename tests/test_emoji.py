"""Emoji in names reach the picture: the set-up installs an emoji font (Noto Color
Emoji) that Graphviz falls back to, so a 🚀 in a touchpoint's name is drawn in colour
in PNG and PDF exports instead of an empty box."""

from __future__ import annotations

import io

from PIL import Image

from maps import diagram


def _coloured_pixels(png: bytes) -> int:
    """Pixels far from grey: a colour emoji has many, black text and a box outline none."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(1 for r, g, b in image.get_flattened_data() if max(r, g, b) - min(r, g, b) > 60)


def _label_png(text: str) -> bytes:
    label = diagram._html(text)
    source = f'digraph {{ node [fontname="{diagram.FONT}" shape=plain]; a [label=<{label}>] }}'
    return diagram.render(source, "png")


def test_an_emoji_in_a_label_is_drawn_in_colour():
    assert _coloured_pixels(_label_png("Launch 🚀 ✅")) > 50


def test_plain_text_has_no_colour_so_the_emoji_check_can_tell():
    assert _coloured_pixels(_label_png("Launch 認知")) == 0
