"""Citations in the code and tests resolve inside the repository: no citation of the old API
notes or design document by file, section ("§N") or rule, and no issue number (documents a
clone does not have); every ``docs/<page>.md#<anchor>`` pointer names a page and an anchor that
exist. (``scripts/fix_citations.py`` rewrites the old forms; its ``EXAMPLES`` show them.)"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("aiodji", "tests")
SUFFIXES = {".py", ".yaml", ".toml", ".md", ".lua"}
OUTSIDE = re.compile(
    r"API\.md|DESIGN(?:\.md| rule)|§\s?\d|\b[Ii]ssues? #?\d+\b|\.\./shared|/work/shared"
)
POINTER = re.compile(r"\b(docs/[\w./-]+\.md)(?:#([\w-]+))?")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*(?:\{#([\w-]+)\})?\s*$")


def _scanned_files() -> list[Path]:
    files = [p for root in SCANNED for p in sorted((ROOT / root).rglob("*"))]
    here = Path(__file__).resolve()
    return [p for p in files if p.suffix in SUFFIXES and p.is_file() and p.resolve() != here]


def _slug(title: str) -> str:
    """The id MkDocs' toc gives a heading without an explicit ``{#id}``."""
    text = re.sub(r"[`*_]", "", title).strip().lower()
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"[\s]+", "-", text)


def anchors_of(page: Path) -> set[str]:
    found: set[str] = set()
    fenced = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else HEADING.match(line)
        if match:
            found.add(match.group(2) or _slug(match.group(1)))
    return found


def test_no_citation_points_outside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:90]}"
        for path in _scanned_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not offenders, "run scripts/fix_citations.py; left:\n" + "\n".join(offenders)


def test_every_docs_pointer_resolves_to_a_page_and_anchor() -> None:
    broken = []
    for path in _scanned_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for page, anchor in POINTER.findall(line):
                target = ROOT / page
                if not target.is_file() or (anchor and anchor not in anchors_of(target)):
                    broken.append(f"{path.relative_to(ROOT)}:{number}: {page}#{anchor}")
    assert not broken, "\n".join(broken)


def _fix_citations() -> ModuleType:
    """``scripts/fix_citations.py``, which is not a package module."""
    spec = importlib.util.spec_from_file_location(
        "fix_citations", ROOT / "scripts/fix_citations.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIX_CITATIONS = _fix_citations()


@pytest.mark.parametrize(("before", "after"), FIX_CITATIONS.EXAMPLES)
def test_the_rewrite_script_handles_the_old_forms_and_is_idempotent(
    before: str, after: str
) -> None:
    assert FIX_CITATIONS.rewrite_text(before) == after
    assert FIX_CITATIONS.rewrite_text(after) == after
