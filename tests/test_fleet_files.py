"""Desired-state files as operators' editors write them: encodings, directories, unreadable or
vanished files, masked exports — each one clear error (exit 2), or decoded when unambiguous."""

from __future__ import annotations

import codecs
import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import aiodji
from aiodji.fleet import Desired, DesiredFileError

TEXT = "[[converters]]\nprojects = ['Site A']\nnames = ['dock-*']\nenabled = false\n"
CREATE = (
    "[[create]]\nproject = 'Site A'\nname = 'cam-1'\nsn = 'SN1'\ncamera_index = '81-0-0'\n"
    "url = '{url}'\n"
)
CLI = [sys.executable, "-c", "from aiodji.cli import main; main()"]


def expected() -> Desired:
    return Desired.from_toml(TEXT)


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF8 + TEXT.encode(),
        TEXT.encode("utf-16"),  # Notepad's "Unicode": UTF-16 LE with its mark
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
        TEXT.replace("\n", "\r\n").encode("utf-16"),
    ],
    ids=["utf8-bom", "utf16-bom", "utf16be-bom", "utf16-crlf"],
)
def test_files_with_a_byte_order_mark_are_decoded(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "d.toml"
    path.write_bytes(data)
    assert Desired.from_toml(path) == expected()


@pytest.mark.parametrize(
    ("data", "word"),
    [
        (TEXT.encode("utf-16-le"), "UTF-16 without a byte-order mark"),
        (TEXT.encode("utf-16-be"), "UTF-16 without a byte-order mark"),
        (b"\xff\xfe\x00\xd8", "utf-16"),  # a mark, then a lone surrogate
        (bytes(range(128, 256)), "not UTF-8"),
        (b"enabled = \xe9\n", "not UTF-8"),
    ],
    ids=["utf16le", "utf16be", "bad-utf16", "binary", "latin1"],
)
def test_undecodable_files_are_one_clear_error(tmp_path: Path, data: bytes, word: str) -> None:
    path = tmp_path / "d.toml"
    path.write_bytes(data)
    with pytest.raises(DesiredFileError, match=word):
        Desired.from_toml(path)


def test_directories_and_missing_files_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DesiredFileError, match="a directory"):
        Desired.from_toml(tmp_path)
    path = tmp_path / "d.toml"
    path.write_text(TEXT)
    path.unlink()
    with pytest.raises(DesiredFileError, match="No such file"):
        Desired.from_toml(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a mode-000 file")
def test_unreadable_files_are_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "d.toml"
    path.write_text(TEXT)
    path.chmod(0)
    with pytest.raises(DesiredFileError, match="Permission denied"):
        Desired.from_toml(path)


def test_every_file_problem_is_an_invalid_argument_error(tmp_path: Path) -> None:
    """The controller and the CLI catch one class: DesiredFileError is an InvalidArgumentError,
    for invalid TOML and invalid contents too."""
    assert issubclass(DesiredFileError, aiodji.InvalidArgumentError)
    for text in ("not toml [", "[[converters]]\nenabled = 'yes'\n"):
        path = tmp_path / "d.toml"
        path.write_text(text)
        with pytest.raises(DesiredFileError):
            Desired.from_toml(path)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=200))
def test_random_bytes_never_escape_as_another_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "d.toml"
        path.write_bytes(data)
        with contextlib.suppress(DesiredFileError):
            Desired.from_toml(path)


@pytest.mark.parametrize(
    "url",
    ["rtmp://media.example/live/***", "rtmp://user:***@media.example/live/key", "rtmp://h/a/k?***"],
)
def test_a_create_with_a_masked_url_is_refused_when_read(url: str) -> None:
    with pytest.raises(DesiredFileError, match="masked URL: export with --reveal-secrets"):
        Desired.from_toml(CREATE.format(url=url))
    Desired.from_toml(CREATE.format(url="rtmp://media.example/live/site-a-1"))  # a real one


def test_a_masked_password_in_schema_option_is_refused() -> None:
    text = (
        "[[create]]\nproject = 'A'\nname = 'g'\nsn = 'S'\ncamera_index = 'c'\n"
        "schema = 'gb28181'\nschema_option = { device_password = '***' }\n"
    )
    with pytest.raises(DesiredFileError, match="masked URL"):
        Desired.from_toml(text)


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIODJI_")}
    env.update(AIODJI_TOKEN="t", XDG_STATE_HOME=str(tmp_path / "state"), NO_COLOR="1")
    return subprocess.run(
        [*CLI, "--base-url", "http://127.0.0.1:9", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("data", "word"),
    [
        (TEXT.encode("utf-16-le"), "UTF-16"),
        (bytes(range(128, 256)), "not UTF-8"),
        (CREATE.format(url="rtmp://media.example/live/***").encode(), "masked URL"),
    ],
    ids=["utf16-no-bom", "binary", "masked"],
)
def test_the_cli_refuses_such_files_with_exit_2(tmp_path: Path, data: bytes, word: str) -> None:
    path = tmp_path / "d.toml"
    path.write_bytes(data)
    done = run_cli(tmp_path, "converters", "apply", "-f", str(path), "--dry-run")
    assert done.returncode == 2, done.stderr
    assert word in done.stderr and "Traceback" not in done.stderr


@pytest.mark.anyio
async def test_the_controller_keeps_its_last_good_state_on_any_such_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The controller died on a UTF-16 or binary file at reload; now each is one rejection."""
    from aiodji.controller import Reconciler

    path = tmp_path / "d.toml"
    path.write_text(TEXT)
    async with aiodji.Client(token="t", base_url="http://127.0.0.1:9") as dji:
        rec = Reconciler(dji.fleet, path)
        rec._maybe_reload()
        good = rec.desired
        assert good == expected()
        for data in (TEXT.encode("utf-16-le"), bytes(range(128, 256)), b"\xff\xfe\x00\xd8"):
            path.write_bytes(data)
            rec.request_reload()
            with caplog.at_level("ERROR", logger="aiodji.controller"):
                rec._maybe_reload()
            assert rec.desired == good
        path.unlink()
        path.mkdir()  # a directory where the file was
        rec.request_reload()
        rec._maybe_reload()
        assert rec.desired == good
    assert caplog.text.count("rejected, keeping the last good one") >= 3
