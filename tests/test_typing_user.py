"""A user's project type-checks against the installed aiodji (editable install included)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

USER_CODE = """
import aiodji

async def main(dji: aiodji.Client) -> None:
    view = dji.with_raw_response.project("p")
    reveal_type(view)
    reveal_type(view.livestream)
    reveal_type(await view.request("GET", "system_status"))
"""


def test_mypy_strict_in_a_user_project_sees_aiodji_and_typed_raw_views(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(USER_CODE)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "app.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = done.stdout
    assert "import-not-found" not in out and "missing library stubs" not in out, out
    assert 'Revealed type is "aiodji.client.RawClientView"' in out, out
    assert 'Revealed type is "aiodji.client.RawResponseView[aiodji.resources' in out, out
    assert 'Revealed type is "aiodji.client.APIResponse[Any]"' in out, out
    assert done.returncode == 0, out
