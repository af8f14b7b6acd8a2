"""Start the dashboard: resolve where to connect and with which key (config, env, flags).

The Textual UI is the next milestone; until it lands, `--demo` serves the embedded simulator in
the foreground (so the API it will show can be explored with any HTTP client), and a real
account is checked for a key so a missing one is reported clearly rather than at first request.
The demo ignores the config file: it needs no key and must work on a fresh machine.
"""

from __future__ import annotations

import argparse
import sys

EXIT_USAGE = 2


def run_dashboard(args: argparse.Namespace) -> int:
    """Open the dashboard for the parsed command line; returns the exit status."""
    if args.demo:
        from infdash.sim import SimConfig
        from infdash.sim.server import run_foreground

        print(
            "infdash demo: the dashboard UI is not built yet, so this serves the embedded "
            "simulator it will run on. Ctrl-C stops it.",
            flush=True,
        )
        from infdash.cli import DEMO_TRAFFIC_SECONDS

        return run_foreground(SimConfig(traffic_interval=DEMO_TRAFFIC_SECONDS), "127.0.0.1", 0)
    from infdash.config import ConfigError, config_path, load_config, resolve

    try:
        connection = resolve(
            load_config(config_path()),
            profile=args.profile,
            api_key=args.api_key,
            base_url=args.base_url,
            theme=args.theme,
            read_only=args.read_only,
        )
    except ConfigError as error:
        print(f"infdash: {error}", file=sys.stderr)
        return EXIT_USAGE
    base_url = connection.base_url
    if not connection.api_key:
        print(
            "infdash: no API key. Set INFERENCE_API_KEY or pass --api-key "
            "(or try 'infdash --demo', which needs none).",
            file=sys.stderr,
        )
        return EXIT_USAGE
    print(
        f"infdash: the dashboard UI is not built yet; the API at {base_url} can be reached "
        "with the key you gave. Try 'infdash --demo' to see the simulator.",
        file=sys.stderr,
    )
    return EXIT_USAGE
