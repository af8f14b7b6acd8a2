"""Start the dashboard: resolve where to connect and with which key (config, env, flags).

``--demo`` starts the embedded simulator on a free loopback port in this process, opens the
dashboard on it and stops it when the dashboard quits; it ignores the config file (it needs no
key and must work on a fresh machine).  Without a key the first-run screen explains where to
put one and offers the demo.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_USAGE = 2
DEMO_RESULT = "demo"
NO_TERMINAL = "infdash: the dashboard needs a terminal (stdin and stdout must be a TTY)"
NO_KEY = (
    "infdash: no API key. Set INFERENCE_API_KEY or pass --api-key "
    "(or try 'infdash --demo', which needs none)."
)


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def run_dashboard(args: argparse.Namespace) -> int:
    """Open the dashboard for the parsed command line; returns the exit status."""
    if args.demo and not _interactive():
        print(
            "infdash: --demo opens the dashboard and needs a terminal; "
            "'infdash sim' serves the simulator alone",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.demo:
        return run_demo(theme=args.theme or "", read_only=args.read_only)
    from infdash.config import ConfigError, config_path, load_config, resolve

    path = config_path()
    try:
        config = load_config(path)
        connection = resolve(
            config,
            profile=args.profile,
            api_key=args.api_key,
            base_url=args.base_url,
            theme=args.theme,
            read_only=args.read_only,
        )
    except ConfigError as error:
        print(f"infdash: {error}", file=sys.stderr)
        return EXIT_USAGE
    if not connection.api_key:
        if not _interactive():
            print(NO_KEY, file=sys.stderr)
            return EXIT_USAGE
        return _first_run(path, theme=connection.theme)
    if not _interactive():
        print(NO_TERMINAL, file=sys.stderr)
        return EXIT_USAGE
    from infdash.ui.app import InfdashApp
    from infdash.ui.session import open_services

    services = open_services(
        connection.base_url,
        connection.api_key.reveal(),
        profile=connection.profile_name,
        read_only=connection.read_only,
        production=connection.production,
        refresh=config.refresh,
    )
    InfdashApp(services, theme=connection.theme).run()
    return 0


def run_demo(*, theme: str = "", read_only: bool = False) -> int:
    """The dashboard on the embedded simulator, which lives exactly as long as the app."""
    from infdash.cli import DEMO_TRAFFIC_SECONDS
    from infdash.sim import SimConfig, SimServer
    from infdash.sim.catalog import CATALOG
    from infdash.ui.app import InfdashApp
    from infdash.ui.session import open_services

    server = SimServer(SimConfig(traffic_interval=DEMO_TRAFFIC_SECONDS))
    try:
        base_url = server.start()
    except OSError as error:
        print(f"infdash: cannot start the simulator: {error}", file=sys.stderr)
        return 1
    try:
        known_apps = [f"{spec.ref}@{v}" for spec in CATALOG.values() for v in spec.versions]
        services = open_services(
            base_url,
            server.api_key,
            profile="demo",
            read_only=read_only,
            known_apps=known_apps,
        )
        InfdashApp(services, theme=theme).run()
    finally:
        server.stop()
    return 0


def _first_run(path: Path, *, theme: str) -> int:
    from infdash.ui.first_run_app import FirstRunApp

    app = FirstRunApp(path, theme=theme)
    result = app.run()
    if result == DEMO_RESULT:
        return run_demo(theme=theme)
    if app.return_code:
        print(NO_KEY, file=sys.stderr)
    return app.return_code or 0
