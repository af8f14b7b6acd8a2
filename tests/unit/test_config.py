"""Config: strict TOML at INFDASH_CONFIG_FILE, 0600 writes, config < env < flags, no key leaks."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from infdash.api_defaults import DEFAULT_BASE_URL
from infdash.config import (
    Config,
    ConfigError,
    Connection,
    Profile,
    RefreshSettings,
    Secret,
    config_path,
    load_config,
    resolve,
    save_config,
)

KEY = "sk_live_do_not_show_1234"


@pytest.fixture(autouse=True)
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test reads and writes a file under tmp, never the real user config directory."""
    path = tmp_path / "infdash" / "config.toml"
    monkeypatch.setenv("INFDASH_CONFIG_FILE", str(path))
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_for(path: Path, text: str) -> str:
    write(path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def full_config() -> Config:
    return Config(
        default_profile="prod",
        profiles={
            "prod": Profile(
                "prod",
                base_url="https://api.example.com",
                api_key=Secret(KEY),
                read_only=True,
                production=True,
                theme="nord",
            ),
            "staging env": Profile("staging env", api_key_env="STAGING_KEY", theme='q"uote\\'),
        },
        theme="gruvbox",
        refresh=RefreshSettings(visible_seconds=1.5, background_seconds=60),
    )


def test_config_path_follows_the_env_var(config_file: Path) -> None:
    assert config_path() == config_file
    assert config_path({}).name == "config.toml"
    assert config_path({}).parent.name == "infdash"


def test_no_file_gives_defaults(config_file: Path) -> None:
    config = load_config(config_file)
    assert config == Config()
    assert config.default_profile == "default"
    assert config.profiles == {"default": Profile("default")}
    assert config.profiles["default"].base_url == DEFAULT_BASE_URL
    assert not config_file.exists()


def test_full_config_round_trips(config_file: Path) -> None:
    save_config(full_config(), config_file)
    assert load_config(config_file) == full_config()


def test_saved_file_is_0600_even_over_a_0644_file(config_file: Path) -> None:
    old_umask = os.umask(0)
    try:
        write(config_file, "").chmod(0o644)
        save_config(full_config(), config_file)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert [p.name for p in config_file.parent.iterdir()] == ["config.toml"]  # no temp left


def test_saved_file_is_0600_in_a_new_directory(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "config.toml"
    save_config(Config(), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_syntax_error_names_file_line_and_column(config_file: Path) -> None:
    message = error_for(config_file, 'theme = "x"\n[profiles.prod]\nread_only = \n')
    assert "invalid TOML" in message
    assert "line 3" in message
    assert "column" in message


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("[profiles.prod]\nread_only = 'yes'\n", "profiles.prod.read_only", "true or false"),
        ("[profiles.prod]\nproduction = 1\n", "profiles.prod.production", "true or false"),
        ("[profiles.prod]\napi_key = 12\n", "profiles.prod.api_key", "expected a string"),
        ("[profiles.prod]\nbase_url = 'ftp://x'\n", "profiles.prod.base_url", "http://"),
        ("[profiles.prod]\napi_key_env = 'A B'\n", "profiles.prod.api_key_env", "variable"),
        ('[profiles."my.p"]\ntheme = 3\n', 'profiles."my.p".theme', "expected a string"),
        ("profiles = 3\n", "profiles", "expected a table"),
        ("[profiles]\nprod = true\n", "profiles.prod", "expected a table"),
        ("theme = []\n", "theme", "an array"),
        ("[refresh]\nvisible_seconds = 'fast'\n", "refresh.visible_seconds", "number"),
        ("[refresh]\nvisible_seconds = 0.1\n", "refresh.visible_seconds", "between 0.5 and 60"),
        ("[refresh]\nvisible_seconds = true\n", "refresh.visible_seconds", "number"),
        (
            "[refresh]\nvisible_seconds = 30\nbackground_seconds = 10\n",
            "refresh.background_seconds",
            "below",
        ),
        ("default_profile = 'nope'\n", "default_profile", "known profiles: default"),
    ],
)
def test_type_errors_name_the_dotted_key(
    config_file: Path, text: str, key: str, expected: str
) -> None:
    message = error_for(config_file, text)
    assert f": {key}: " in message
    assert expected in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("colour = 'red'\n", "colour"),
        ("[profiles.prod]\nreadonly = true\n", "profiles.prod.readonly"),
        ("[refresh]\nfast = 1\n", "refresh.fast"),
    ],
)
def test_unknown_keys_are_rejected(config_file: Path, text: str, key: str) -> None:
    message = error_for(config_file, text)
    assert f": {key}: unknown key (expected one of: " in message


def test_default_profile_falls_back_to_the_only_profile(config_file: Path) -> None:
    write(config_file, "[profiles.prod]\nread_only = true\n")
    config = load_config(config_file)
    assert config.default_profile == "prod"
    assert list(config.profiles) == ["prod"]


def test_unreadable_and_non_utf8_files_are_config_errors(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_bytes(b"theme = '\xff'\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(config_file)
    config_file.unlink()
    config_file.mkdir()
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(config_file)


PRECEDENCE_CONFIG = Config(
    default_profile="main",
    profiles={
        "main": Profile("main", base_url="http://config", api_key=Secret("from-config")),
        "named": Profile("named", api_key=Secret("from-config"), api_key_env="NAMED_KEY"),
    },
)


@pytest.mark.parametrize(
    ("profile", "env", "flags", "key", "url"),
    [
        ("main", {}, {}, "from-config", "http://config"),
        (
            "main",
            {"INFERENCE_API_KEY": "from-env", "INFERENCE_BASE_URL": "http://env"},
            {},
            "from-env",
            "http://env",
        ),
        (
            "main",
            {"INFERENCE_API_KEY": "from-env", "INFERENCE_BASE_URL": "http://env"},
            {"api_key": "from-flag", "base_url": "http://flag"},
            "from-flag",
            "http://flag",
        ),
        ("main", {"INFERENCE_API_KEY": ""}, {"api_key": ""}, "from-config", "http://config"),
        ("named", {}, {}, "from-config", DEFAULT_BASE_URL),
        ("named", {"NAMED_KEY": "from-named"}, {}, "from-named", DEFAULT_BASE_URL),
        (
            "named",
            {"NAMED_KEY": "from-named", "INFERENCE_API_KEY": "from-env"},
            {},
            "from-env",
            DEFAULT_BASE_URL,
        ),
        (
            "named",
            {"NAMED_KEY": "from-named"},
            {"api_key": "from-flag"},
            "from-flag",
            DEFAULT_BASE_URL,
        ),
    ],
)
def test_precedence_is_config_then_env_then_flags(
    profile: str, env: dict[str, str], flags: dict[str, str], key: str, url: str
) -> None:
    connection = resolve(
        PRECEDENCE_CONFIG,
        profile=profile,
        api_key=flags.get("api_key"),
        base_url=flags.get("base_url"),
        env=env,
    )
    assert connection.profile_name == profile
    assert connection.api_key.reveal() == key
    assert connection.base_url == url


def test_default_profile_theme_and_read_only() -> None:
    config = Config(
        default_profile="prod",
        profiles={"prod": Profile("prod", read_only=True, production=True), "dev": Profile("dev")},
        theme="gruvbox",
    )
    prod = resolve(config, env={})
    assert (prod.profile_name, prod.read_only, prod.production, prod.theme) == (
        "prod",
        True,
        True,
        "gruvbox",
    )
    dev = resolve(config, profile="dev", theme="nord", read_only=True, env={})
    assert (dev.read_only, dev.production, dev.theme) == (True, False, "nord")
    assert resolve(config, profile="dev", env={}).read_only is False


def test_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown profile 'nope' \(known profiles: dev, prod\)"):
        resolve(Config(profiles={"prod": Profile("prod"), "dev": Profile("dev")}), profile="nope")


def test_the_key_never_shows(config_file: Path) -> None:
    config = full_config()
    connection = resolve(config, env={})
    assert connection.api_key.reveal() == KEY
    secret = Secret(KEY)
    shown = [repr(config), str(config), repr(connection), repr(secret), str(secret), f"{secret}"]
    shown.append(repr(config.profiles["prod"]))
    assert all(KEY not in text for text in shown)
    assert isinstance(connection, Connection)
    assert Profile("p", api_key=KEY).api_key == Secret(KEY)  # type: ignore[arg-type]
    # Errors about the key's line name the key, never its value.
    for text in (f"[profiles.p]\napi_key = '{KEY}'\nbogus = 1\n", f"api_key = '{KEY}'\n"):
        assert KEY not in error_for(config_file, text)


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `python -m infdash` as a user would, capturing both streams."""
    return subprocess.run(
        [sys.executable, "-m", "infdash", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **env},
        check=False,
    )


def test_broken_config_file_exits_2_with_one_line(config_file: Path) -> None:
    write(config_file, f"[profiles.default]\napi_key = '{KEY}'\nread_only = 'yes'\n")
    result = run_cli(env={"INFDASH_CONFIG_FILE": str(config_file)})
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(config_file) in lines[0]
    assert "profiles.default.read_only" in lines[0]
    assert "Traceback" not in result.stderr
    assert KEY not in result.stderr


def test_unknown_profile_flag_exits_2(config_file: Path) -> None:
    result = run_cli("--profile", "nope", env={"INFDASH_CONFIG_FILE": str(config_file)})
    assert result.returncode == 2
    assert "unknown profile 'nope' (known profiles: default)" in result.stderr
    assert "Traceback" not in result.stderr


def test_key_from_the_config_file_is_used(config_file: Path) -> None:
    save_config(Config(profiles={"default": Profile("default", api_key=Secret(KEY))}), config_file)
    result = run_cli(env={"INFDASH_CONFIG_FILE": str(config_file)})
    assert "no API key" not in result.stderr
    assert "the dashboard needs a terminal" in result.stderr  # got past the key check
    assert KEY not in result.stderr + result.stdout
