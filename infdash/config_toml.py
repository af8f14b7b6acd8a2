"""The config file's TOML side: strict reading into the model and a tiny writer.

`tomllib` only reads, and the config schema is small and fixed, so a few lines of writer beat a
new dependency (anything outside strings, booleans, numbers and tables raises `TypeError`). The
reader checks every key and type and fails with the file and the dotted key, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

from infdash.api_defaults import DEFAULT_BASE_URL
from infdash.config import (
    BACKGROUND_BOUNDS,
    DEFAULT_PROFILE,
    VISIBLE_BOUNDS,
    Config,
    ConfigError,
    Profile,
    RefreshSettings,
    Secret,
)

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def toml_key(key: str) -> str:
    """A key as TOML spells it: bare when it can be, quoted otherwise."""
    return key if _BARE_KEY.fullmatch(key) else toml_string(key)


def toml_string(text: str) -> str:
    """A basic (double-quoted) TOML string; control characters become escapes."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_value(value: object) -> str:
    """One scalar value; bool is checked before int because bool is an int in Python."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, int | float) and value == value and abs(value) != float("inf"):
        return repr(value)
    raise TypeError(f"cannot write a {type(value).__name__} as TOML")


def dumps(document: Mapping[str, object]) -> str:
    """The document as TOML text: each table's scalars under its header, then its sub-tables."""
    lines: list[str] = []
    _write_table(document, (), lines)
    return "\n".join(lines).strip("\n") + "\n"


def _write_table(table: Mapping[str, object], path: tuple[str, ...], lines: list[str]) -> None:
    scalars = [(key, value) for key, value in table.items() if not isinstance(value, Mapping)]
    if path and (scalars or not table):
        lines.extend(["", "[" + ".".join(toml_key(part) for part in path) + "]"])
    lines.extend(f"{toml_key(key)} = {toml_value(value)}" for key, value in scalars)
    for key, value in table.items():
        if isinstance(value, Mapping):
            _write_table(value, (*path, key), lines)


def config_from_toml(data: dict[str, object], path: Path) -> Config:
    """The `Config` parsed TOML describes; `ConfigError` naming `path` and the key otherwise."""
    return _Reader(path).config(data)


def config_to_toml(config: Config) -> str:
    """The config as TOML text, key included: only ever written to the 0600 file."""
    profiles = {
        name: {
            "base_url": profile.base_url,
            "api_key": profile.api_key.reveal(),
            "api_key_env": profile.api_key_env,
            "read_only": profile.read_only,
            "production": profile.production,
            "theme": profile.theme,
        }
        for name, profile in config.profiles.items()
    }
    refresh = {
        "visible_seconds": config.refresh.visible_seconds,
        "background_seconds": config.refresh.background_seconds,
    }
    document = {
        "default_profile": config.default_profile,
        "theme": config.theme,
        "refresh": refresh,
        "profiles": profiles,
    }
    return dumps(document)


class _Reader:
    """Turns parsed TOML into a `Config`, failing with the file and the dotted key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, keys: tuple[str, ...], problem: str) -> NoReturn:
        dotted = ".".join(toml_key(key) for key in keys)
        raise ConfigError(f"{self.path}: {dotted}: {problem}")

    def table(
        self, data: object, keys: tuple[str, ...], allowed: tuple[str, ...]
    ) -> dict[str, object]:
        if not isinstance(data, dict):
            self.fail(keys, f"expected a table, got {_describe(data)}")
        for key in data:
            if key not in allowed:
                self.fail((*keys, key), f"unknown key (expected one of: {', '.join(allowed)})")
        return data

    def string(self, data: dict[str, object], keys: tuple[str, ...], default: str) -> str:
        value = data.get(keys[-1], default)
        if not isinstance(value, str):
            self.fail(keys, f"expected a string, got {_describe(value)}")
        return value

    def boolean(self, data: dict[str, object], keys: tuple[str, ...]) -> bool:
        value = data.get(keys[-1], False)
        if not isinstance(value, bool):
            self.fail(keys, f"expected true or false, got {_describe(value)}")
        return value

    def number(
        self,
        data: dict[str, object],
        keys: tuple[str, ...],
        default: float,
        bounds: tuple[float, float],
    ) -> float:
        value = data.get(keys[-1], default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(keys, f"expected a number of seconds, got {_describe(value)}")
        if not bounds[0] <= value <= bounds[1]:
            self.fail(keys, f"expected a number between {bounds[0]:g} and {bounds[1]:g}")
        return float(value)

    def profile(self, name: str, data: object) -> Profile:
        keys = ("profiles", name)
        fields = ("base_url", "api_key", "api_key_env", "read_only", "production", "theme")
        table = self.table(data, keys, fields)
        base_url = self.string(table, (*keys, "base_url"), DEFAULT_BASE_URL)
        if not base_url.startswith(("http://", "https://")):
            self.fail((*keys, "base_url"), "expected a URL starting with http:// or https://")
        key_env = self.string(table, (*keys, "api_key_env"), "")
        if key_env and not _ENV_NAME.fullmatch(key_env):
            self.fail((*keys, "api_key_env"), "expected an environment variable name")
        return Profile(
            name=name,
            base_url=base_url,
            api_key=Secret(self.string(table, (*keys, "api_key"), "")),
            api_key_env=key_env,
            read_only=self.boolean(table, (*keys, "read_only")),
            production=self.boolean(table, (*keys, "production")),
            theme=self.string(table, (*keys, "theme"), ""),
        )

    def config(self, data: dict[str, object]) -> Config:
        top = self.table(data, (), ("default_profile", "profiles", "theme", "refresh"))
        raw_profiles = top.get("profiles", {})
        if not isinstance(raw_profiles, dict):
            self.fail(("profiles",), f"expected a table, got {_describe(raw_profiles)}")
        profiles = {name: self.profile(name, value) for name, value in raw_profiles.items()}
        if not profiles:
            profiles = {DEFAULT_PROFILE: Profile(DEFAULT_PROFILE)}
        fallback = DEFAULT_PROFILE if DEFAULT_PROFILE in profiles else next(iter(profiles))
        default = self.string(top, ("default_profile",), fallback)
        if default not in profiles:
            known = ", ".join(sorted(profiles))
            self.fail(("default_profile",), f"names no profile (known profiles: {known})")
        refresh = self.table(
            top.get("refresh", {}), ("refresh",), ("visible_seconds", "background_seconds")
        )
        visible = self.number(refresh, ("refresh", "visible_seconds"), 2.0, VISIBLE_BOUNDS)
        background = self.number(
            refresh, ("refresh", "background_seconds"), 30.0, BACKGROUND_BOUNDS
        )
        if background < visible:
            self.fail(("refresh", "background_seconds"), "must not be below visible_seconds")
        return Config(
            default_profile=default,
            profiles=profiles,
            theme=self.string(top, ("theme",), ""),
            refresh=RefreshSettings(visible, background),
        )


def _describe(value: object) -> str:
    """The kind of a TOML value, never the value itself (it might be a key)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return "a date or time"
