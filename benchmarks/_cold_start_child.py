"""Child process of B18: open the dashboard on a given server, print a marker on the first
frame that shows task rows, and quit.  Run by ``bench_cold_start``; not a benchmark itself."""

from __future__ import annotations

import sys
from typing import Any


def main(base_url: str, api_key: str) -> None:
    from infdash.ui.app import InfdashApp
    from infdash.ui.session import open_services
    from infdash.ui.widgets.task_table import TaskTable

    app = InfdashApp(open_services(base_url, api_key, profile="bench"))
    display = app._display  # private hook, benchmarks only (performance.md §5.1)

    def probe(*args: Any, **kwargs: Any) -> Any:
        result = display(*args, **kwargs)
        tables = app.screen.query(TaskTable)
        if tables and len(tables.first().source or ()) > 0:
            print("FIRST_FRAME", flush=True)
            app.exit()
        return result

    app._display = probe  # type: ignore[method-assign]
    app.run(headless=True, size=(160, 50))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
