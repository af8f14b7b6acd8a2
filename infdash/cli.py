"""Command line: argument parsing and dispatch to the dashboard or the simulator.

Bad flags print one line (no usage dump, no traceback) and exit with status 2, so scripts and
people both get a clear answer. Heavy imports (Textual, uvicorn) happen only in the branch that
needs them, which keeps `--help` and `--version` instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from infdash import __version__

EXIT_USAGE = 2
DEMO_TRAFFIC_SECONDS = 4.0
"""How often a new task arrives in the simulator the demo and `infdash sim` serve."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected zero or a positive number, got {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, got {value}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    """The whole command-line contract of ARCHITECTURE §3."""
    parser = _Parser(
        prog="infdash",
        description="A terminal dashboard for the inference.sh platform.",
        epilog="Run 'infdash --demo' to try it on the embedded simulator: no key, no network.",
    )
    parser.add_argument("--version", action="version", version=f"infdash {__version__}")
    parser.add_argument(
        "--demo", action="store_true", help="run against the embedded simulator (no key needed)"
    )
    parser.add_argument("--api-key", metavar="KEY", help="API key (overrides INFERENCE_API_KEY)")
    parser.add_argument(
        "--base-url", metavar="URL", help="API base URL (overrides INFERENCE_BASE_URL)"
    )
    parser.add_argument("--profile", metavar="NAME", help="profile from the config file")
    parser.add_argument("--theme", metavar="NAME", help="colour theme")
    parser.add_argument(
        "--read-only", action="store_true", help="refuse every action that changes anything"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sim = commands.add_parser(
        "sim",
        help="serve the simulated inference.sh API in the foreground",
        description="Serve the simulated inference.sh API until Ctrl-C or SIGTERM.",
    )
    sim.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    sim.add_argument("--port", type=_port, default=8787, help="port (default 8787; 0 = any free)")
    sim.add_argument(
        "--api-key", default="inf_demo", help="key clients must send (default inf_demo)"
    )
    sim.add_argument("--seed", type=_int, default=0, help="world seed (default 0)")
    sim.add_argument(
        "--speed", type=_positive_float, default=1.0, help="simulated seconds per real second"
    )
    sim.add_argument(
        "--traffic",
        type=_non_negative_float,
        default=DEMO_TRAFFIC_SECONDS,
        metavar="SECONDS",
        help=f"a new task about every SECONDS simulated seconds (default {DEMO_TRAFFIC_SECONDS:g}; "
        "0 = none)",
    )
    sim.add_argument(
        "--approvals-require-sign-in",
        action="store_true",
        help="refuse tool approvals with 403 requires_sign_in, as the real API does for API keys",
    )
    return parser


def _run_sim(args: argparse.Namespace) -> int:
    from infdash.sim import SimConfig
    from infdash.sim.server import run_foreground

    config = SimConfig(
        api_key=args.api_key,
        seed=args.seed,
        speed=args.speed,
        traffic_interval=args.traffic or None,
        approvals_require_sign_in=args.approvals_require_sign_in,
    )
    return run_foreground(config, args.host, args.port)


def _run_dashboard(args: argparse.Namespace) -> int:
    from infdash.dashboard import run_dashboard

    return run_dashboard(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `infdash` console script; returns the process exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "sim":
            return _run_sim(args)
        return _run_dashboard(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
