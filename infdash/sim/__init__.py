"""The embedded inference.sh simulator: a real HTTP server with a world that moves.

Independent of ``infdash.api`` and ``infdash.scheduler`` (two readings of one contract) and
free of Textual. Start one with ``SimServer(SimConfig(...)).start()``.
"""

from infdash.sim.config import ErrorBurst, FaultConfig, RateLimits, RateLimitStorm, SimConfig
from infdash.sim.server import SimServer, run_foreground
from infdash.sim.world import World

__all__ = [
    "ErrorBurst",
    "FaultConfig",
    "RateLimitStorm",
    "RateLimits",
    "SimConfig",
    "SimServer",
    "World",
    "run_foreground",
]
