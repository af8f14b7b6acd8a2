"""The demo app catalogue: stable names, versions and how each app behaves when it runs.

Durations are (min, max) simulated seconds, drawn per task from the task's own random stream,
so the same seed gives the same walk. ``price`` is in microcents per second of worker time
(1 USD = 100,000,000 microcents).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infdash.sim.ids import make_id

Range = tuple[float, float]

PLATFORM_FAILURES = (
    "task interrupted, please retry",
    "task could not be processed after multiple attempts, please retry",
    "session worker offline",
)


@dataclass(frozen=True)
class AppSpec:
    """One app: identity, versions and the shape of its status walk."""

    namespace: str
    name: str
    versions: tuple[str, ...]
    description: str
    prepare: Range
    serving: Range
    setup: Range
    run: Range
    upload: Range
    cold_start_chance: float
    price: int
    run_log_rate: float
    """Log lines per simulated second while running."""
    fails: bool = False
    streams_tokens: bool = False
    output_kind: str = "echo"
    functions: tuple[str, ...] = field(default=("run",))

    @property
    def ref(self) -> str:
        """``namespace/name``."""
        return f"{self.namespace}/{self.name}"

    @property
    def latest(self) -> str:
        """The version used when a reference names none."""
        return self.versions[-1]

    @property
    def app_id(self) -> str:
        """Stable app id."""
        return make_id("app", 0, self.ref, 0)

    def version_id(self, version: str) -> str:
        """Stable id of one version."""
        return make_id("ver", 0, f"{self.ref}@{version}", 0)


CATALOG: dict[str, AppSpec] = {
    spec.ref: spec
    for spec in (
        AppSpec(
            "infsh", "echo", ("1.0.0", "1.1.0"), "Returns its input unchanged.",
            prepare=(0.2, 0.6), serving=(0.8, 1.5), setup=(0.1, 0.3), run=(0.4, 1.2),
            upload=(0.1, 0.2), cold_start_chance=0.1, price=500, run_log_rate=4.0,
        ),
        AppSpec(
            "infsh", "flux", ("0.9.0", "1.0.0"), "Text to image (simulated).",
            prepare=(1.0, 3.0), serving=(6.0, 15.0), setup=(1.0, 2.5), run=(8.0, 20.0),
            upload=(0.8, 2.5), cold_start_chance=0.3, price=30000, run_log_rate=3.0,
            output_kind="image",
        ),
        AppSpec(
            "infsh", "llm", ("2.0.0", "2.1.0"), "Chat model that streams tokens.",
            prepare=(0.5, 1.5), serving=(3.0, 8.0), setup=(0.3, 0.8), run=(2.0, 6.0),
            upload=(0.1, 0.3), cold_start_chance=0.4, price=20000, run_log_rate=1.0,
            streams_tokens=True, output_kind="text",
        ),
        AppSpec(
            "infsh", "slow", ("1.0.0",), "Runs for minutes; good for cancel and drain.",
            prepare=(1.0, 2.0), serving=(2.0, 4.0), setup=(1.0, 2.0), run=(180.0, 300.0),
            upload=(1.0, 3.0), cold_start_chance=0.2, price=5000, run_log_rate=8.0,
        ),
        AppSpec(
            "infsh", "flaky", ("0.1.0",), "Always fails with a platform error.",
            prepare=(0.3, 1.0), serving=(1.0, 2.0), setup=(0.2, 0.5), run=(1.0, 4.0),
            upload=(0.1, 0.2), cold_start_chance=0.2, price=1000, run_log_rate=5.0,
            fails=True,
        ),
    )
}  # fmt: skip


class UnknownApp(LookupError):
    """The reference names no app or no such version."""


@dataclass(frozen=True)
class AppRef:
    """A resolved ``ns/name[@version][:function]`` reference."""

    spec: AppSpec
    version: str
    function: str

    @property
    def text(self) -> str:
        """``ns/name@version``."""
        return f"{self.spec.ref}@{self.version}"


def resolve(ref: str, function: str | None = None) -> AppRef:
    """Resolve a reference; an unknown app or version raises :class:`UnknownApp`."""
    text = ref.strip()
    fn = function or ""
    if ":" in text:
        text, fn_part = text.split(":", 1)
        fn = fn or fn_part
    version: str | None = None
    if "@" in text:
        text, version = text.split("@", 1)
    spec = CATALOG.get(text)
    if spec is None:
        raise UnknownApp(f"app {ref!r} not found")
    if version is None or version in ("", "latest"):
        version = spec.latest
    if version not in spec.versions:
        raise UnknownApp(f"version {version!r} of app {spec.ref!r} not found")
    return AppRef(spec, version, fn or spec.functions[0])
