"""Rewrite citations of documents outside the repository into pointers at the docs.

``python scripts/fix_citations.py [PATH ...]`` (default: ``aiodji`` and ``tests``) rewrites, in
place:

- ``API.md §6.2``, ``API.md decision 5``, a bare ``§13.1`` (the API notes were cited by section)
  into ``docs/explanation/api-notes.md#<anchor>``;
- ``DESIGN rule N`` into ``docs/explanation/design.md#<anchor>``;
- issue numbers (``(issue 14, defect 3)``, ``Issue 14: ...``, ``issue 10's targets``) out.

Idempotent: a second run changes nothing. A Python line the rewrite makes longer than 100
characters is wrapped (comment and docstring lines only carry citations).
``tests/test_citations.py`` fails on any citation left that points outside the repository.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

NOTES = "docs/explanation/api-notes.md"
DESIGN = "docs/explanation/design.md"
MAX_LINE = 100

# section of the old API notes -> anchor of docs/explanation/api-notes.md (longest prefix wins)
SECTION_ANCHORS = {
    "1": "headers",
    "1.1": "access-points",
    "1.2": "path-prefix",
    "1.3": "headers",
    "1.4": "envelope",
    "1.5": "pagination",
    "1.6": "rate-limits",
    "1.7": "stability",
    "2": "authentication",
    "3": "system",
    "4": "projects",
    "5": "devices",
    "5.10": "not-found",
    "5.11": "not-found",
    "6": "livestream",
    "6.2": "converters",
    "6.2.0": "business-codes",
    "7": "tasks",
    "8": "waylines",
    "9": "models3d",
    "10": "annotations",
    "11": "not-found",
    "12": "converters",
    "13": "live",
    "13.1": "open-modeling",
}
DECISION_ANCHORS = {
    "1": "access-points",
    "2": "business-codes",
    "3": "rate-limits",
    "4": "pagination",
    "5": "converter-limit",
    "6": "converter-state",
    "7": "pagination",
    "8": "not-found",
    "9": "secrets",
}
DESIGN_ANCHORS = {
    "1": "one-pool",
    "2": "limiter",
    "3": "retries",
    "4": "lenient",
    "5": "bulk",
    "6": "idempotent",
    "7": "secrets",
}

_SEC = r"§\s?\d+(?:\.\d+)*"
_DEC = r"decisions?\s+\d+"
_MORE = rf"(?:\s*(?:,|/|and|-|–)\s*(?:{_SEC}|{_DEC}|\d+(?:\.\d+)*\b(?!\s*%)))"
_TAG = r"(?:\s*\[(?:live|doc-client|secondary)\])?"
# "API.md §6.2 and decisions 4-6", "API.md decision 5", or a bare "§13.1 [live]"
API_REF = re.compile(rf"API\.md\s+(?:{_SEC}|{_DEC}){_MORE}*{_TAG}|{_SEC}{_MORE}*{_TAG}")
DESIGN_REF = re.compile(r"DESIGN rule (\d+)(?:'s concern)?")

# (pattern, replacement) for issue numbers and the odd fixed phrase, applied in order
FIXED = [
    (
        re.compile(
            r"example replies of API\.md / fh2-openapi\.yaml \(copied: CI has no \.\./shared\)"
        ),
        f"example replies of the API notes ({NOTES}), copied here",
    ),
    (re.compile(r"\(issue \d+: "), "("),
    (re.compile(r",? ?\((?:see )?[Ii]ssue \d+[^()]*\)"), ""),
    (re.compile(r"\b[Ii]ssue \d+'s "), "the "),
    (re.compile(r" of issue \d+\b"), ""),
]
# what the old forms become: the script's own examples, run by tests/test_citations.py (a test
# file cannot hold the old forms: the same test scans it for them)
EXAMPLES = [
    ("(API.md §6.2 and decisions 4-6)", f"({NOTES}#converters)"),
    ("per API.md decision 5: up", f"per {NOTES}#converter-limit: up"),
    ("ints (§13)", f"ints ({NOTES}#live)"),
    ("(DESIGN rule 1's concern)", f"({DESIGN}#one-pool)"),
    ("at apply (issue 14, defect 4)", "at apply"),
    ('"""Issue 14 defects 1, 2: what shows', '"""What shows'),
]
ISSUE_LEAD = re.compile(r"\b[Ii]ssue \d+(?: defects? \d+(?:, \d+)*)?(?: \([^)]*\))?: (\S)")
TEST_ID_SECTION = re.compile(r'"§\d+(?:\.\d+)* ')


def _anchor_of(ref: str) -> str:
    first = re.search(rf"{_SEC}|{_DEC}", ref)
    assert first is not None
    token = first.group(0)
    if token.startswith("decision"):
        return DECISION_ANCHORS.get(token.split()[-1], "live")
    number = token.lstrip("§").strip()
    parts = number.split(".")
    for size in range(len(parts), 0, -1):
        anchor = SECTION_ANCHORS.get(".".join(parts[:size]))
        if anchor:
            return anchor
    return "live"


def rewrite_text(text: str) -> str:
    """Every citation in ``text`` rewritten (pure; the same text once nothing is left)."""
    for pattern, replacement in FIXED:
        text = pattern.sub(replacement, text)
    text = ISSUE_LEAD.sub(lambda m: m.group(1).upper(), text)
    text = TEST_ID_SECTION.sub('"', text)
    text = DESIGN_REF.sub(lambda m: f"{DESIGN}#{DESIGN_ANCHORS.get(m.group(1), 'one-pool')}", text)
    return API_REF.sub(lambda m: f"{NOTES}#{_anchor_of(m.group(0))}", text)


def _split_at(line: str, limit: int) -> int:
    """The last space before ``limit`` (outside an rst ``literal`` when the line's pairs
    balance); -1 when there is none."""
    balanced = line.count("``") % 2 == 0
    best = -1
    for i, char in enumerate(line[:limit]):
        if char != " " or not line[:i].strip():
            continue
        if not balanced or line[:i].count("``") % 2 == 0:
            best = i
    return best


def wrap_line(line: str) -> list[str]:
    """A comment or docstring line over the limit, as lines within it; a trailing comment
    that no longer fits moves above its code."""
    if len(line) <= MAX_LINE:
        return [line]
    indent = line[: len(line) - len(line.lstrip())]
    code, sep, comment = line.partition("  # ")
    if sep and code.strip() and not code.lstrip().startswith("#"):
        return [*wrap_line(f"{indent}# {comment}"), code.rstrip()]
    prefix = indent + ("# " if line.lstrip().startswith("#") else "")
    out: list[str] = []
    while len(line) > MAX_LINE:
        cut = _split_at(line, MAX_LINE)
        if cut <= len(prefix):
            break
        out.append(line[:cut].rstrip())
        line = prefix + line[cut:].lstrip()
    return [*out, line]


def rewrite_file(path: Path) -> bool:
    """Rewrite ``path`` in place; True when it changed."""
    old = path.read_text(encoding="utf-8")
    lines = old.splitlines(keepends=True)
    new_lines: list[str] = []
    for line in lines:
        new = rewrite_text(line)
        if new != line and path.suffix == ".py":
            body, end = new.rstrip("\n"), new[len(new.rstrip("\n")) :]
            new = "\n".join(wrap_line(body)) + end
        new_lines.append(new)
    new_text = "".join(new_lines)
    if new_text != old:
        path.write_text(new_text, encoding="utf-8")
    return new_text != old


def targets(roots: list[str]) -> list[Path]:
    files: list[Path] = []
    for root in roots:
        base = Path(root)
        found = [base] if base.is_file() else sorted(base.rglob("*"))
        files += [p for p in found if p.suffix in {".py", ".yaml", ".md", ".toml"} and p.is_file()]
    # the script's own test holds the old forms on purpose
    return [p for p in files if p.name != "test_citations.py"]


def main(argv: list[str]) -> int:
    changed = [
        p for p in targets(argv[1:] or ["aiodji", "tests", "pyproject.toml"]) if rewrite_file(p)
    ]
    for path in changed:
        print(f"rewrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
