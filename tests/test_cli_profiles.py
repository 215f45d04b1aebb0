"""Profile token sources: ``token_cmd`` (first output line, failure without its stderr),
``token_env`` and ``token_keyring``; the token never shows in errors or reprs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import aiodji
from aiodji.cli.profiles import Profile, profile_token

SECRET = "sk-profile-secret-0123456789"


def cmd(code: str) -> str:
    return f"{sys.executable} -c {code!r}"


def test_token_cmd_gives_its_first_output_line() -> None:
    profile = Profile(name="prod", token_cmd=cmd(f"print('{SECRET}'); print('second line')"))
    assert profile_token(profile, {}) == SECRET
    assert SECRET not in repr(Profile(name="prod", token=SECRET))


def test_token_cmd_failure_is_a_config_error_without_its_output() -> None:
    failing = cmd(f"import sys; print('{SECRET}', file=sys.stderr); sys.exit(3)")
    with pytest.raises(aiodji.ConfigError, match="exited 3") as info:
        profile_token(Profile(name="prod", token_cmd=failing), {})
    assert SECRET not in str(info.value)
    with pytest.raises(aiodji.ConfigError, match="token_cmd failed"):
        profile_token(Profile(name="prod", token_cmd="/nonexistent/pass fh2"), {})
    with pytest.raises(aiodji.ConfigError, match="without a token"):
        profile_token(Profile(name="prod", token_cmd=cmd("pass")), {})


def test_token_env_and_keyring_sources(tmp_path: Path) -> None:
    profile = Profile(name="prod", token_env="FH2_PROD_TOKEN")
    assert profile_token(profile, {"FH2_PROD_TOKEN": f" {SECRET}\n"}) == SECRET
    with pytest.raises(aiodji.ConfigError, match=r"\$FH2_PROD_TOKEN is not set"):
        profile_token(profile, {})
    try:
        import keyring  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
    except ImportError:
        with pytest.raises(aiodji.ConfigError, match="pip install keyring"):
            profile_token(Profile(name="prod", token_keyring="fh2-prod"), {})
