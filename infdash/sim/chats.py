"""The chat state machine: turns of the agent on the simulated clock, queued messages, tool
invocations (app tools run real tasks), approvals, stop and the R28 error fault.

A turn is a generator script: it yields a delay (seconds until its next step) or ``None`` to
park until something resumes it (an approval, a client tool result, the end of a task). Stop
closes the generator, so nothing it planned can fire afterwards. Every change is published to
the chat's topic (``chat:<id>``) for ``GET /chats/{id}/stream``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from infdash.sim.agents import (
    APPROVAL_INTRO,
    CLIENT_INTRO,
    TOOL_INTRO,
    AgentSpec,
    TurnPlan,
    chunks,
    plan_turn,
)
from infdash.sim.catalog import resolve
from infdash.sim.chat_models import AgentRun, Chat, Message, ToolInvocation
from infdash.sim.clock import Timer, rfc3339
from infdash.sim.respond import ApiError
from infdash.sim.tasks import COMPLETED, StreamEvent, Task

if TYPE_CHECKING:
    from infdash.sim.world import World

FIRST_TOKEN = 0.3
"""Seconds from the start of a turn to its first delta."""
DELTA = 0.05
"""Seconds between deltas."""
QUEUED_ORDER = 1_000_000
"""Provisional ``order`` of queued messages starts above this."""
ERROR_MESSAGE = "model provider error: upstream connection reset"
Script = Generator[float | None, None, None]


@dataclass
class Turn:
    """One running agent turn."""

    chat: Chat
    run: AgentRun
    message: Message
    plan: TurnPlan
    rng: random.Random
    user_text: str
    gen: Script | None = None
    timer: Timer | None = None
    waiting: bool = False
    failed: bool = False
    response_deltas: int = 0
    tools: list[ToolInvocation] = field(default_factory=list)


class ChatEngine:
    """All chats, messages and tool invocations of the world."""

    def __init__(self, world: World) -> None:
        self.w = world
        self.chats: dict[str, Chat] = {}
        self.messages: dict[str, Message] = {}
        self.tools: dict[str, ToolInvocation] = {}
        self.turns: dict[str, Turn] = {}

    # publishing ------------------------------------------------------------------------
    def _emit(self, chat: Chat, kind: str, data: dict[str, Any], fields: Any = None) -> None:
        self.w.publish(f"chat:{chat.id}", StreamEvent(0, kind, data, fields))

    def _pub_chat(self, chat: Chat) -> None:
        chat.updated_at = self.w.now()
        self._emit(chat, "chats", chat.dto())

    def _pub_run(self, chat: Chat, run: AgentRun) -> None:
        run.updated_at = self.w.now()
        self._emit(chat, "agent_runs", run.dto())

    def _pub_msg(self, chat: Chat, msg: Message) -> None:
        msg.updated_at = self.w.now()
        self._emit(chat, "chat_messages", msg.dto())

    # chats and messages ----------------------------------------------------------------
    def create_chat(self, agent: AgentSpec, name: str = "") -> Chat:
        """A new idle chat."""
        now = self.w.now()
        chat = Chat(self.w.next_id("chat"), agent, name, now, now)
        self.chats[chat.id] = chat
        return chat

    def send(
        self, chat: Chat, text: str, files: list[dict[str, Any]]
    ) -> tuple[Message, Message | None]:
        """A user message: starts a turn (returns the assistant message too) or is queued."""
        now = self.w.now()
        msg = Message(self.w.next_id("msg"), chat.id, "user", 0, "ready", now, now,
                      text=text, files=files)  # fmt: skip
        chat.messages.append(msg)
        self.messages[msg.id] = msg
        if not chat.name:
            chat.name = text.strip()[:40]
        if chat.active_run is not None:
            chat.queued_seen += 1
            msg.order = QUEUED_ORDER + chat.queued_seen
            msg.status = "queued"
            msg.run_id = chat.active_run.id
            self._pub_msg(chat, msg)
            return msg, None
        turn = self._start_turn(chat, msg)
        return msg, turn.message

    def cancel_message(self, msg: Message) -> None:
        """Cancel a queued message (content cleared); others → 409 ``not_cancellable``."""
        if msg.status != "queued":
            raise ApiError(409, "not_cancellable", f"message {msg.id} is {msg.status}, not queued")
        msg.status = "cancelled"
        msg.text, msg.files = "", []
        self._pub_msg(self.chats[msg.chat_id], msg)

    # turns -----------------------------------------------------------------------------
    def _start_turn(self, chat: Chat, fresh: Message | None) -> Turn:
        now = self.w.now()
        chat.turns += 1
        users = [*chat.queued(), *([fresh] if fresh is not None else [])]
        run = AgentRun(self.w.next_id("run"), chat.id, chat.agent, users[-1].id, now, now)
        for m in users:
            m.order, chat.next_order = chat.next_order, chat.next_order + 1
            m.run_id = run.id
            if m is fresh:
                m.status = "ready"
                self._pub_msg(chat, m)
            else:
                m.status = "ready"
                m.updated_at = now
                data = {"id": m.id, "chat_id": chat.id, "status": "ready", "order": m.order,
                        "agent_run_id": run.id}  # fmt: skip
                self._emit(chat, "chat_messages", data, list(data))
        asst = Message(self.w.next_id("msg"), chat.id, "assistant", chat.next_order, "pending",
                       now, now, run_id=run.id)  # fmt: skip
        chat.next_order += 1
        chat.messages.append(asst)
        self.messages[asst.id] = asst
        chat.active_run = run
        self._pub_run(chat, run)
        self._pub_chat(chat)
        self._pub_msg(chat, asst)
        rng = random.Random(f"{self.w.config.seed}:{chat.id}:{chat.turns}")
        text = users[-1].text
        turn = Turn(chat, run, asst, plan_turn(text, rng), rng, text)
        self.turns[chat.id] = turn
        turn.gen = self._script(turn)
        self._step(turn)
        return turn

    def _step(self, turn: Turn) -> None:
        turn.timer = None
        assert turn.gen is not None
        try:
            wait = next(turn.gen)
        except StopIteration:
            return
        if wait is None:
            turn.waiting = True
        else:
            turn.timer = self.w.sched.call_later(wait, lambda: self._step(turn))

    def _resume(self, turn: Turn) -> None:
        if turn.waiting and self.turns.get(turn.chat.id) is turn:
            turn.waiting = False
            self._step(turn)

    def _script(self, t: Turn) -> Script:
        yield FIRST_TOKEN
        plan = t.plan
        if plan.reasoning:
            for piece in chunks(plan.thought, t.rng):
                self._delta(t, "reasoning", piece)
                yield DELTA
        intro = {"app": TOOL_INTRO, "approval": APPROVAL_INTRO, "client": CLIENT_INTRO}
        yield from self._say(t, intro.get(plan.tool, ""))
        if t.failed:
            return
        outro = ""
        if plan.tool in ("app", "approval"):
            approval = plan.tool == "approval"
            inv = self._invoke(t, "app", "awaiting_approval" if approval else "in_progress")
            if approval:
                self._interrupt(t, inv)
                yield None
            if inv.status == "cancelled":
                outro = "Understood — I did not run it.\n\n"
            else:
                self._start_task(t, inv)
                yield None
                word = "completed" if inv.status == "completed" else "failed"
                outro = f"The task `{inv.task_id}` {word}:\n\n```json\n{inv.result}\n```\n\n"
        elif plan.tool == "client":
            inv = self._invoke(t, "client", "awaiting_input")
            yield None
            outro = f"Your local time is **{inv.result}**.\n\n"
        yield from self._say(t, outro + plan.reply)
        if not t.failed:
            self._end(t, "completed")

    def _say(self, t: Turn, text: str) -> Script:
        for piece in chunks(text, t.rng):
            limit = self.w.faults.chat_error_after_deltas
            if limit is not None and t.response_deltas >= limit:
                self._fail(t)
                return
            self._delta(t, "response", piece)
            t.response_deltas += 1
            yield DELTA

    def _delta(self, t: Turn, kind: str, text: str) -> None:
        msg = t.message
        msg.delta_seq += 1
        if kind == "response":
            msg.text += text
        else:
            msg.reasoning += text
        data = {"resource_id": msg.id, "seq": msg.delta_seq, "delta": {kind: text}}
        self._emit(t.chat, "delta", data)

    def _fail(self, t: Turn) -> None:
        """R28: an ``error`` event mid-reply, then the message fails with its partial text."""
        t.failed = True
        data = {"resource_id": t.message.id, "run_id": t.run.id, "code": "internal_error",
                "message": ERROR_MESSAGE}  # fmt: skip
        self._emit(t.chat, "error", data)
        t.message.error = ERROR_MESSAGE
        t.run.error = ERROR_MESSAGE
        self._end(t, "failed")

    def _end(self, t: Turn, state: str) -> None:
        now = self.w.now()
        chat, msg, run = t.chat, t.message, t.run
        msg.status = {"completed": "ready", "failed": "failed"}.get(state, "cancelled")
        run.state = state
        run.finished_at = now
        chat.active_run = None
        chat.interrupts.clear()
        self.turns.pop(chat.id, None)
        self._pub_msg(chat, msg)
        self._pub_run(chat, run)
        self._pub_chat(chat)
        if chat.queued():
            self._start_turn(chat, None)

    def stop(self, chat: Chat) -> None:
        """Stop the active run: partial text kept, message ``cancelled``, run ``canceled``."""
        t = self.turns.get(chat.id)
        if t is None:
            return
        if t.timer is not None:
            t.timer.cancel()
        if t.gen is not None:
            t.gen.close()
        now = self.w.now()
        for inv in t.message.tools:
            if inv.open:
                inv.status, inv.updated_at = "cancelled", now
        for inv in t.message.tools:
            task = self.w.get_task(inv.task_id) if inv.task_id else None
            if task is not None and not task.terminal:
                self.w.cancel_task(task, force=False)
        self._end(t, "canceled")

    # tools -----------------------------------------------------------------------------
    def _invoke(self, t: Turn, kind: str, status: str) -> ToolInvocation:
        now = self.w.now()
        app = kind == "app"
        inv = ToolInvocation(
            id=self.w.next_id("ti"),
            call_id=f"call_{len(self.tools) + 1:04d}",
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
        self.tools[inv.id] = inv
        self._pub_msg(t.chat, t.message)
        return inv

    def _interrupt(self, t: Turn, inv: ToolInvocation) -> None:
        meta = {"tool_name": inv.display_name, "arguments": inv.arguments,
                "tool_invocation_id": inv.id}  # fmt: skip
        t.chat.interrupts.append(
            {
                "id": self.w.next_id("int"),
                "created_at": rfc3339(self.w.now()),
                "run_id": t.run.id,
                "chat_id": t.chat.id,
                "reason": "tool_approval",
                "source": "tool",
                "resource_id": inv.id,
                "resource_type": "tool_invocation",
                "status": "pending",
                "meta": meta,
            }
        )
        t.run.state = "input_required"
        t.run.interrupt_tool_id = inv.id
        self._pub_run(t.chat, t.run)
        self._pub_chat(t.chat)

    def _start_task(self, t: Turn, inv: ToolInvocation) -> None:
        task = self.w.create_task(resolve("infsh/echo"), {"input": dict(inv.arguments)})
        inv.task_id = task.id
        inv.status, inv.updated_at = "in_progress", self.w.now()
        self._pub_msg(t.chat, t.message)
        self.w.on_terminal(task, lambda done: self._tool_done(t, inv, done))

    def _tool_done(self, t: Turn, inv: ToolInvocation, task: Task) -> None:
        if not inv.open or self.turns.get(t.chat.id) is not t:
            return
        ok = task.status == COMPLETED
        inv.status, inv.updated_at = ("completed" if ok else "failed"), self.w.now()
        inv.result = json.dumps(task.output, ensure_ascii=False) if ok else (task.error or "")
        self._pub_msg(t.chat, t.message)
        self._resume(t)

    def _turn_of(self, inv: ToolInvocation) -> Turn:
        t = self.turns.get(inv.chat_id)
        if t is None or inv not in t.message.tools:
            raise ApiError(400, "invalid_state", f"tool invocation {inv.id} is {inv.status}")
        return t

    def _resolve_approval(self, inv: ToolInvocation) -> Turn:
        if self.w.approvals_require_sign_in:
            raise ApiError(403, "requires_sign_in",
                           "approving tools needs a signed-in session, not an API key")  # fmt: skip
        if inv.status != "awaiting_approval":
            raise ApiError(400, "invalid_state", f"tool invocation {inv.id} is {inv.status}, "
                           "not awaiting_approval")  # fmt: skip
        t = self._turn_of(inv)
        t.chat.interrupts = [i for i in t.chat.interrupts if i["resource_id"] != inv.id]
        t.run.state = "working"
        t.run.interrupt_tool_id = None
        return t

    def approve(self, inv: ToolInvocation) -> None:
        """``POST /tools/{id}/invoke``: the tool runs (its task starts)."""
        t = self._resolve_approval(inv)
        inv.status, inv.updated_at = "in_progress", self.w.now()
        self._pub_run(t.chat, t.run)
        self._pub_chat(t.chat)
        self._resume(t)

    def reject(self, inv: ToolInvocation, reason: str) -> None:
        """``POST /tools/{id}/reject``: the tool is cancelled and the reply goes on."""
        t = self._resolve_approval(inv)
        inv.status, inv.updated_at = "cancelled", self.w.now()
        inv.result = f"rejected: {reason}" if reason else "rejected"
        self._pub_msg(t.chat, t.message)
        self._pub_run(t.chat, t.run)
        self._pub_chat(t.chat)
        self._resume(t)

    def client_result(self, inv: ToolInvocation, result: str) -> None:
        """``POST /tools/{id}``: the result of a client tool."""
        if inv.type != "client" or inv.status != "awaiting_input":
            raise ApiError(400, "invalid_state", f"tool invocation {inv.id} is a {inv.type} "
                           f"tool in {inv.status}; it takes no client result")  # fmt: skip
        t = self._turn_of(inv)
        inv.status, inv.updated_at, inv.result = "completed", self.w.now(), result
        self._pub_msg(t.chat, t.message)
        self._resume(t)
