"""Reading a deck as people do: the text of each slide (its text boxes and table cells),
its speaker notes, and the text of a PDF handout."""

from __future__ import annotations

import io

import pypdfium2
from pptx import Presentation


def open_pptx(body: bytes) -> Presentation:
    return Presentation(io.BytesIO(body))


def slide_text(slide) -> str:
    """What a slide shows: its text boxes and every cell of its tables."""
    parts = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            parts.append(shape.text_frame.text)
        if getattr(shape, "has_table", False) and shape.has_table:
            parts += [cell.text for row in shape.table.rows for cell in row.cells]
    return "\n".join(parts)


def notes_text(slide) -> str:
    return slide.notes_slide.notes_text_frame.text if slide.has_notes_slide else ""


def deck_text(deck: Presentation) -> str:
    """Every slide's text and notes."""
    return "\n".join(slide_text(slide) + "\n" + notes_text(slide) for slide in deck.slides)


def titles(deck: Presentation) -> list[str]:
    """Each slide's first text: its title."""
    return [
        next((s.text_frame.text for s in slide.shapes if s.has_text_frame and s.text_frame.text), "")
        for slide in deck.slides
    ]


def pdf_text(body: bytes) -> str:
    """The text a PDF reader finds (PDFium, Chrome's PDF engine: what people copy and search)."""
    document = pypdfium2.PdfDocument(body)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def squeezed(text: str) -> str:
    """`text` without any white space: a PDF breaks lines where a slide wraps them."""
    return "".join(str(text).split())
