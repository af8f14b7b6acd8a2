"""What happens inside one agent turn: reasoning and reply deltas, tool invocations (app tools
run a real simulator task), the approval interrupt, and the R28 error fault.

A turn is a generator: it yields a delay (seconds until its next step) or ``None`` to park
until the chat engine resumes it (an approval, a client tool result, the end of a task).
"""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from infdash.sim.agents import APPROVAL_INTRO, CLIENT_INTRO, TOOL_INTRO, chunks
from infdash.sim.catalog import resolve
from infdash.sim.chat_models import ToolInvocation
from infdash.sim.clock import rfc3339
from infdash.sim.tasks import COMPLETED, STATUS_NAMES, Task

if TYPE_CHECKING:
    from infdash.sim.chats import ChatEngine, Turn

FIRST_TOKEN = 0.3
"""Seconds from the start of a turn to its first delta."""
DELTA = 0.05
"""Seconds between deltas."""
ERROR_MESSAGE = "model provider error: upstream connection reset"
Script = Generator[float | None, None, None]


class TurnScript:
    """The assistant's side of a turn, run by :class:`ChatEngine` step by step."""

    def __init__(self, engine: ChatEngine) -> None:
        self.e = engine

    def run(self, t: Turn) -> Script:
        """The whole turn: reasoning, intro, tool, reply; ends the turn when done."""
        yield FIRST_TOKEN
        plan = t.plan
        if plan.reasoning:
            for piece in chunks(plan.thought, t.rng):
                self.delta(t, "reasoning", piece)
                yield DELTA
        intro = {"app": TOOL_INTRO, "approval": APPROVAL_INTRO, "client": CLIENT_INTRO}
        yield from self.say(t, intro.get(plan.tool, ""))
        if t.failed:
            return
        outro = ""
        if plan.tool in ("app", "approval"):
            approval = plan.tool == "approval"
            inv = self.invoke(t, "app", "awaiting_approval" if approval else "in_progress")
            if approval:
                self.interrupt(t, inv)
                yield None
            if inv.status == "cancelled":
                outro = "Understood — I did not run it.\n\n"
            else:
                self.start_task(t, inv)
                yield None
                word = "completed" if inv.status == "completed" else "failed"
                outro = f"The task `{inv.task_id}` {word}:\n\n```json\n{inv.result}\n```\n\n"
        elif plan.tool == "client":
            inv = self.invoke(t, "client", "awaiting_input")
            yield None
            outro = f"Your local time is **{inv.result}**.\n\n"
        yield from self.say(t, outro + plan.reply)
        if not t.failed:
            self.e.end(t, "completed")

    def say(self, t: Turn, text: str) -> Script:
        """Stream reply text as ``response`` deltas (the R28 fault may cut it)."""
        for piece in chunks(text, t.rng):
            limit = self.e.w.faults.chat_error_after_deltas
            if limit is not None and t.response_deltas >= limit:
                self.fail(t)
                return
            self.delta(t, "response", piece)
            t.response_deltas += 1
            yield DELTA

    def delta(self, t: Turn, kind: str, text: str) -> None:
        """Append to the message and publish one ``delta`` event."""
        msg = t.message
        msg.delta_seq += 1
        if kind == "response":
            msg.text += text
        else:
            msg.reasoning += text
        data = {"resource_id": msg.id, "seq": msg.delta_seq, "delta": {kind: text}}
        self.e.emit(t.chat, "delta", data)

    def fail(self, t: Turn) -> None:
        """R28: an ``error`` event mid-reply, then the message fails with its partial text."""
        t.failed = True
        data = {"resource_id": t.message.id, "run_id": t.run.id, "code": "internal_error",
                "message": ERROR_MESSAGE}  # fmt: skip
        self.e.emit(t.chat, "error", data)
        t.message.error = ERROR_MESSAGE
        t.run.error = ERROR_MESSAGE
        self.e.end(t, "failed")

    def invoke(self, t: Turn, kind: str, status: str) -> ToolInvocation:
        """A new tool invocation on the assistant message."""
        now = self.e.w.now()
        app = kind == "app"
        inv = ToolInvocation(
            id=self.e.w.next_id("ti"),
            call_id=f"call_{len(self.e.tools) + 1:04d}",
            message_id=t.message.id,
            chat_id=t.chat.id,
            type=kind,
            display_name="infsh/echo" if app else "Local time",
            name="infsh_echo" if app else "get_local_time",
            arguments={"message": t.user_text} if app else {"timezone": "local"},
            status=status,
            created_at=now,
            updated_at=now,
        )
        t.message.tools.append(inv)
        self.e.tools[inv.id] = inv
        self.e.pub_msg(t.chat, t.message)
        return inv

    def interrupt(self, t: Turn, inv: ToolInvocation) -> None:
        """Park the run on a ``tool_approval`` interrupt."""
        meta = {"tool_name": inv.display_name, "arguments": inv.arguments,
                "tool_invocation_id": inv.id}  # fmt: skip
        interrupt_id = self.e.w.next_id("int")
        interrupt: dict[str, Any] = {
            "id": interrupt_id,
            "created_at": rfc3339(self.e.w.now()),
            "run_id": t.run.id,
            "chat_id": t.chat.id,
            "reason": "tool_approval",
            "source": "tool",
            "resource_id": inv.id,
            "resource_type": "tool_invocation",
            "status": "pending",
            "resolution": None,
            "resolved_at": None,
            "meta": meta,
        }
        t.chat.interrupts.append(interrupt)
        self.e.interrupts[interrupt_id] = interrupt
        t.run.state = "input_required"
        t.run.interrupt_tool_id = inv.id
        self.e.pub_run(t.chat, t.run)
        self.e.pub_chat(t.chat)

    def start_task(self, t: Turn, inv: ToolInvocation) -> None:
        """Run the app tool as a real task; the turn resumes when it ends."""
        task = self.e.w.create_task(resolve("infsh/echo"), {"input": dict(inv.arguments)})
        inv.task_id = task.id
        inv.status, inv.updated_at = "in_progress", self.e.w.now()
        self.e.pub_msg(t.chat, t.message)
        self.e.w.on_terminal(task, lambda done: self.tool_done(t, inv, done))

    def tool_done(self, t: Turn, inv: ToolInvocation, task: Task) -> None:
        """The linked task ended: complete or fail the invocation and resume."""
        if not inv.open or self.e.turns.get(t.chat.id) is not t:
            return
        ok = task.status == COMPLETED
        inv.status, inv.updated_at = ("completed" if ok else "failed"), self.e.w.now()
        failure = task.error or f"task {STATUS_NAMES[task.status]}"
        inv.result = json.dumps(task.output, ensure_ascii=False) if ok else failure
        self.e.pub_msg(t.chat, t.message)
        self.e.resume(t)
