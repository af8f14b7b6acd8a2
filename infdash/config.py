"""Settings and profiles: one typed model read from TOML, then env, then flags (ARCHITECTURE §3).

The file lives at `platformdirs.user_config_path("infdash") / "config.toml"` unless
`INFDASH_CONFIG_FILE` names another (tests always do). It is validated strictly: a syntax error,
a wrong type or an unknown key is a `ConfigError` whose one-line message names the file and the
dotted key, so `infdash` can print it and exit 2 instead of failing later. Values are never
echoed in messages, so an API key cannot leak through an error; inside the program the key is
a `Secret` whose repr and str are redacted. Files are written atomically with mode 0600.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from infdash.api_defaults import DEFAULT_BASE_URL

CONFIG_FILE_ENV = "INFDASH_CONFIG_FILE"
API_KEY_ENV = "INFERENCE_API_KEY"
BASE_URL_ENV = "INFERENCE_BASE_URL"
DEFAULT_PROFILE = "default"
VISIBLE_BOUNDS = (0.5, 60.0)
"""Shortest and longest poll interval, in seconds, for what is on screen."""
BACKGROUND_BOUNDS = (5.0, 3600.0)
"""Shortest and longest poll interval, in seconds, for what is not on screen."""


class ConfigError(Exception):
    """A config problem, as one line naming the file and key; never contains a secret value."""


class Secret:
    """A string that shows as `***` in repr, str and f-strings; `.reveal()` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str = "") -> None:
        self._value = value

    def reveal(self) -> str:
        """The real value, for the one place that needs it (the Authorization header, the file)."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    def __str__(self) -> str:
        return "***" if self._value else ""


@dataclass(frozen=True)
class Profile:
    """One account to connect to; its name is its table key under `[profiles]`."""

    name: str
    """How `--profile` and `default_profile` refer to it."""
    base_url: str = DEFAULT_BASE_URL
    """Root of the inference.sh API (http or https)."""
    api_key: Secret = field(default_factory=Secret)
    """The key itself, if kept in the file (prefer `api_key_env`)."""
    api_key_env: str = ""
    """Name of an environment variable holding the key; beats `api_key` when set and non-empty."""
    read_only: bool = False
    """Refuse every action that changes anything."""
    production: bool = False
    """Mark the connection as production, so the UI can warn before acting on it."""
    theme: str = ""
    """Colour theme for this profile; empty means the config-wide theme."""

    def __post_init__(self) -> None:
        if isinstance(self.api_key, str):  # a plain str is accepted and wrapped, never kept
            object.__setattr__(self, "api_key", Secret(self.api_key))


@dataclass(frozen=True)
class RefreshSettings:
    """How often to poll; the scheduler's policy applies these as its base intervals."""

    visible_seconds: float = 2.0
    """Poll interval for what is on screen, within `VISIBLE_BOUNDS`."""
    background_seconds: float = 30.0
    """Poll interval for what is not on screen, within `BACKGROUND_BOUNDS`, not below visible."""

    def __post_init__(self) -> None:
        for name, value, (low, high) in (
            ("visible_seconds", self.visible_seconds, VISIBLE_BOUNDS),
            ("background_seconds", self.background_seconds, BACKGROUND_BOUNDS),
        ):
            if not low <= value <= high:
                raise ValueError(f"{name} must be between {low:g} and {high:g}")
        if self.background_seconds < self.visible_seconds:
            raise ValueError("background_seconds must not be below visible_seconds")


def _default_profiles() -> dict[str, Profile]:
    return {DEFAULT_PROFILE: Profile(DEFAULT_PROFILE)}


@dataclass(frozen=True)
class Config:
    """The whole config file."""

    default_profile: str = DEFAULT_PROFILE
    """Profile used when `--profile` is not given; must name one of `profiles`."""
    profiles: dict[str, Profile] = field(default_factory=_default_profiles)
    """Profiles by name."""
    theme: str = ""
    """Colour theme for every profile that does not set its own; empty means Textual's default."""
    refresh: RefreshSettings = field(default_factory=RefreshSettings)
    """Poll intervals."""


@dataclass(frozen=True)
class Connection:
    """Where and how to connect, after config, env and flags are applied in that order."""

    profile_name: str
    base_url: str
    api_key: Secret
    read_only: bool
    production: bool
    theme: str


def config_path(env: Mapping[str, str] = os.environ) -> Path:
    """`INFDASH_CONFIG_FILE` if set, else `config.toml` in the platform's config directory."""
    if override := env.get(CONFIG_FILE_ENV):
        return Path(override)
    import platformdirs

    return platformdirs.user_config_path("infdash") / "config.toml"


def load_config(path: Path) -> Config:
    """The config in `path`; defaults when it does not exist; `ConfigError` when it is wrong."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return Config()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    from infdash.config_toml import config_from_toml  # it imports this module

    return config_from_toml(data, path)


def save_config(config: Config, path: Path) -> None:
    """Write `config` atomically (temp file, then rename) with mode 0600 whatever the umask."""
    from infdash.config_toml import config_to_toml

    text = config_to_toml(config)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temp_name = tempfile.mkstemp(prefix=".config-", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def resolve(
    config: Config,
    *,
    profile: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    theme: str | None = None,
    read_only: bool = False,
    env: Mapping[str, str] = os.environ,
) -> Connection:
    """Apply config profile, then env, then flags; empty env values and flags count as unset.

    The key comes from, lowest first: the profile's `api_key`, the variable its `api_key_env`
    names, `INFERENCE_API_KEY`, `--api-key`. `--read-only` can only add the restriction.
    """
    name = profile or config.default_profile
    chosen = config.profiles.get(name)
    if chosen is None:
        known = ", ".join(sorted(config.profiles)) or "none"
        raise ConfigError(f"unknown profile {name!r} (known profiles: {known})")
    key = chosen.api_key.reveal()
    if chosen.api_key_env:
        key = env.get(chosen.api_key_env) or key
    key = api_key or env.get(API_KEY_ENV) or key
    return Connection(
        profile_name=name,
        base_url=base_url or env.get(BASE_URL_ENV) or chosen.base_url,
        api_key=Secret(key),
        read_only=read_only or chosen.read_only,
        production=chosen.production,
        theme=theme or chosen.theme or config.theme,
    )
