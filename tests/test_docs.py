"""The repository documents itself: every docs/ file a docstring or comment points at
exists, and the gap codes the docs list are the codes the rules produce."""

from __future__ import annotations

import re
from pathlib import Path

from maps import gaps

ROOT = Path(__file__).resolve().parent.parent


def test_every_docs_file_the_code_points_at_exists():
    named = {
        match for path in (ROOT / "maps").rglob("*.py") for match in re.findall(r"docs/[\w./-]+\.md", path.read_text())
    }
    assert named, "the code points at no docs file"
    assert sorted(name for name in named if not (ROOT / name).exists()) == []


def test_the_gap_rules_doc_lists_exactly_the_codes_of_the_rules():
    table = re.findall(r"^\| `([a-z-]+)` \| (error|warning|info) \|", (ROOT / "docs" / "gaps.md").read_text(), re.M)
    assert [code for code, _severity in table] == list(gaps.CODES)
