"""MkDocs hooks (``hooks:`` in mkdocs.yml): pages made from the code and from committed files.

- the generated reference pages of ``scripts/docs_gen.py`` (CLI commands, operation table);
- ``changelog.md`` from ``CHANGELOG.md``;
- ``results/<name>.md`` from every committed ``benchmarks/results/*.md``, so a page can cite
  the result file a figure comes from.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files, InclusionLevel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import docs_gen  # noqa: E402  (beside this file, not a package)


def on_files(files: Files, config: Any) -> Files:
    for rel, make in docs_gen.PAGES.items():
        files.append(File.generated(config, rel, content=make()))
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    files.append(File.generated(config, "changelog.md", content=changelog))
    for result in sorted((ROOT / "benchmarks" / "results").glob("*.md")):
        page = File.generated(
            config,
            f"results/{result.name}",
            abs_src_path=str(result),
            inclusion=InclusionLevel.NOT_IN_NAV,  # linked from the pages that cite them
        )
        files.append(page)
    return files
