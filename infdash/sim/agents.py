"""The simulated agent ``infsh/assistant``: its identity, the reply corpus and how a turn is
chosen from the user's words (deterministically, so tests and demos can pick a path).

Keywords (whole words of the last user message, case-insensitive, in this precedence):
``approve``/``dangerous`` → an app tool that needs approval; ``client`` → a client tool;
``tool``/``run`` → an app tool; ``think`` → reasoning first; ``plain`` → a plain answer;
otherwise a seeded choice.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any, Literal

from infdash.sim.ids import make_id

ToolKind = Literal["none", "app", "approval", "client"]


@dataclass(frozen=True)
class AgentSpec:
    """One agent template."""

    namespace: str
    name: str
    version: str
    description: str

    @property
    def ref(self) -> str:
        """``namespace/name``."""
        return f"{self.namespace}/{self.name}"

    @property
    def id(self) -> str:
        """Stable agent id."""
        return make_id("agent", 0, self.ref, 0)

    @property
    def version_id(self) -> str:
        """Stable id of the agent's only version."""
        return make_id("ver", 0, f"agent:{self.ref}@{self.version}", 0)

    def summary(self) -> dict[str, Any]:
        """The ``agent`` object embedded in a chat."""
        return {"id": self.id, "namespace": self.namespace, "name": self.name}

    def dto(self, created_at: str) -> dict[str, Any]:
        """``AgentDTO`` as listed by ``GET /agents``."""
        return {
            **self.summary(),
            "created_at": created_at,
            "updated_at": created_at,
            "description": self.description,
            "version_id": self.version_id,
            "version": {"id": self.version_id, "agent_id": self.id, "version": self.version},
        }


ASSISTANT = AgentSpec(
    "infsh", "assistant", "1.0.0", "General assistant that answers in Markdown and runs apps."
)
AGENTS = {ASSISTANT.ref: ASSISTANT}


class UnknownAgent(Exception):
    """No agent by that reference or id."""


def resolve_agent(ref: Any, agent_id: Any) -> AgentSpec:
    """An agent by ``ns/name[@version]`` or id; neither given → the assistant."""
    if agent_id:
        found = next((a for a in AGENTS.values() if a.id == agent_id), None)
        if found is None:
            raise UnknownAgent(f"agent {agent_id!r}")
        return found
    if not ref:
        return ASSISTANT
    name, _, version = str(ref).partition("@")
    spec = AGENTS.get(name)
    if spec is None or (version and version not in (spec.version, "latest")):
        raise UnknownAgent(f"agent {ref!r}")
    return spec


CORPUS = (
    "## Task queue overview\n\nHere is what I found:\n\n"
    "- **Queued** tasks wait for an idle worker.\n- **Running** tasks stream their logs.\n"
    "- Finished tasks keep their timings and cost.\n\n"
    "| status | meaning |\n|---|---|\n| queued | waiting for a worker |\n"
    "| running | executing on an engine |\n| completed | output is ready |\n\n"
    "You can follow one task with:\n\n```bash\ninfsh task stream <task-id>\n```\n",
    "### Draining an engine\n\n1. Mark the engine as draining.\n"
    "2. Let the in-flight tasks finish — no new work lands on it.\n"
    "3. The engine stops once it is idle.\n\n"
    "```python\nawait client.engines.drain(engine_id)\n```\n\n"
    "| step | engine status |\n|---|---|\n| 1 | draining |\n| 3 | stopped |\n\n"
    "Ask me to *run* something if you want to see a task in action.\n",
    "# Quick answer\n\nShort version: **yes**, it works — with two caveats.\n\n"
    "- Rate limits are per key and class (run: 100/min).\n"
    "- Streams send a heartbeat every 10 s; treat silence as a dead connection.\n\n"
    "| limit class | per minute |\n|---|---|\n| run | 100 |\n| get_task | 1000 |\n"
    "| upload | 50 |\n\n"
    '```json\n{"retry_after": 7, "remaining": 0}\n```\n\nAnything else? ✨\n',
    "## Résumé of your workspace\n\n* 3 engines online, one *disconnected*.\n"
    "* GPUs: RTX 4090, A100 80GB, H100 80GB.\n* Oldest engine version: `v1.9.3`.\n\n"
    "### Suggested next steps\n\n1. Update `rig-c` to **stable**.\n"
    "2. Reconnect `rig-d` or stop it.\n\n"
    "```text\nengine   status        version\nrig-c    running       v1.9.3\n"
    "rig-d    disconnected  v1.10.15\n```\n\n| engine | GPU |\n|---|---|\n"
    "| rig-a | RTX 4090 |\n| rig-c | H100 80GB |\n",
)
REASONING = (
    "The user wants an overview. I should check which parts matter most, keep it short, "
    "use a table for the numbers and end with one concrete command.",
    "Let me think about the order of operations first: draining before updating avoids "
    "killing in-flight work, then the version check.",
)
TOOL_INTRO = "I'll run `infsh/echo` with your message.\n\n"
APPROVAL_INTRO = "Running `infsh/echo` needs your approval first — approve or reject the call.\n\n"
CLIENT_INTRO = "Let me check your local time with the `get_local_time` tool.\n\n"


@dataclass(frozen=True)
class TurnPlan:
    """What the assistant will do in one turn."""

    reasoning: bool
    tool: ToolKind
    reply: str
    thought: str


def plan_turn(text: str, rng: random.Random) -> TurnPlan:
    """Choose the turn's path from keywords, else from the seeded random stream."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    roll = rng.random()
    reply = CORPUS[rng.randrange(len(CORPUS))]
    thought = REASONING[rng.randrange(len(REASONING))]
    tool: ToolKind = "none"
    reasoning = "think" in words
    if words & {"approve", "dangerous"}:
        tool = "approval"
    elif "client" in words:
        tool = "client"
    elif words & {"tool", "run"}:
        tool = "app"
    elif "plain" in words or reasoning:
        pass
    elif roll < 0.3:
        reasoning = True
    elif roll < 0.5:
        tool = "app"
    return TurnPlan(reasoning, tool, reply, thought)


def chunks(text: str, rng: random.Random) -> list[str]:
    """Split text into delta chunks of 2–12 characters."""
    out: list[str] = []
    i = 0
    while i < len(text):
        n = rng.randint(2, 12)
        out.append(text[i : i + n])
        i += n
    return out
