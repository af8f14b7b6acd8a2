"""The chat state machine: chats, messages, turns on the simulated clock, queued messages,
stop, message cancel, approvals and client tool results.

What the assistant does inside a turn lives in ``chat_script.py``; this module starts, parks,
resumes and ends turns. Stop closes the turn's generator, so nothing it planned can fire
afterwards. Every change is published to the chat's topic (``chat:<id>``) for
``GET /chats/{id}/stream``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from infdash.sim.agents import AgentSpec, TurnPlan, plan_turn
from infdash.sim.chat_models import AgentRun, Chat, Message, ToolInvocation
from infdash.sim.chat_script import Script, TurnScript
from infdash.sim.clock import Timer, rfc3339
from infdash.sim.respond import ApiError
from infdash.sim.tasks import StreamEvent

if TYPE_CHECKING:
    from infdash.sim.world import World

QUEUED_ORDER = 1_000_000
"""Provisional ``order`` of queued messages starts above this."""


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


class ChatEngine:
    """All chats, messages and tool invocations of the world."""

    def __init__(self, world: World) -> None:
        self.w = world
        self.chats: dict[str, Chat] = {}
        self.messages: dict[str, Message] = {}
        self.tools: dict[str, ToolInvocation] = {}
        self.turns: dict[str, Turn] = {}
        self.runs: dict[str, AgentRun] = {}
        self.interrupts: dict[str, dict[str, Any]] = {}
        """InterruptDTOs by id (pending ones are also in their chat's ``interrupts``)."""
        self.script = TurnScript(self)

    # publishing ------------------------------------------------------------------------
    def emit(self, chat: Chat, kind: str, data: dict[str, Any], fields: Any = None) -> None:
        """Publish one event to the chat's stream readers."""
        self.w.publish(f"chat:{chat.id}", StreamEvent(0, kind, data, fields))

    def pub_chat(self, chat: Chat) -> None:
        """Publish the full chat."""
        chat.updated_at = self.w.now()
        self.emit(chat, "chats", chat.dto())

    def pub_run(self, chat: Chat, run: AgentRun) -> None:
        """Publish the full agent run."""
        run.updated_at = self.w.now()
        self.emit(chat, "agent_runs", run.dto())

    def pub_msg(self, chat: Chat, msg: Message) -> None:
        """Publish the full message."""
        msg.updated_at = self.w.now()
        self.emit(chat, "chat_messages", msg.dto())

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
            self.pub_msg(chat, msg)
            return msg, None
        turn = self._start_turn(chat, msg)
        return msg, turn.message

    def cancel_message(self, msg: Message) -> None:
        """Cancel a queued message (content cleared); others → 409 ``not_cancellable``."""
        if msg.status != "queued":
            raise ApiError(409, "not_cancellable", f"message {msg.id} is {msg.status}, not queued")
        msg.status = "cancelled"
        msg.text, msg.files = "", []
        self.pub_msg(self.chats[msg.chat_id], msg)

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
                self.pub_msg(chat, m)
            else:
                m.status = "ready"
                m.updated_at = now
                data = {"id": m.id, "chat_id": chat.id, "status": "ready", "order": m.order,
                        "agent_run_id": run.id}  # fmt: skip
                self.emit(chat, "chat_messages", data, list(data))
        asst = Message(self.w.next_id("msg"), chat.id, "assistant", chat.next_order, "pending",
                       now, now, run_id=run.id)  # fmt: skip
        chat.next_order += 1
        chat.messages.append(asst)
        self.messages[asst.id] = asst
        chat.active_run = run
        self.runs[run.id] = run
        self.pub_run(chat, run)
        self.pub_chat(chat)
        self.pub_msg(chat, asst)
        rng = random.Random(f"{self.w.config.seed}:{chat.id}:{chat.turns}")
        text = users[-1].text
        turn = Turn(chat, run, asst, plan_turn(text, rng), rng, text)
        self.turns[chat.id] = turn
        turn.gen = self.script.run(turn)
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

    def resume(self, turn: Turn) -> None:
        """Continue a parked turn (if it is still the chat's active one)."""
        if turn.waiting and self.turns.get(turn.chat.id) is turn:
            turn.waiting = False
            self._step(turn)

    def end(self, t: Turn, state: str) -> None:
        """Finish a turn (completed, failed or canceled); start the next if messages wait."""
        now = self.w.now()
        chat, msg, run = t.chat, t.message, t.run
        msg.status = {"completed": "ready", "failed": "failed"}.get(state, "cancelled")
        run.state = state
        run.finished_at = now
        chat.active_run = None
        for interrupt in chat.interrupts:
            interrupt["status"] = "cancelled"
        chat.interrupts.clear()
        self.turns.pop(chat.id, None)
        self.pub_msg(chat, msg)
        self.pub_run(chat, run)
        self.pub_chat(chat)
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
        self.end(t, "canceled")

    # tools -----------------------------------------------------------------------------
    def _turn_of(self, inv: ToolInvocation) -> Turn:
        t = self.turns.get(inv.chat_id)
        if t is None or inv not in t.message.tools:
            raise ApiError(400, "invalid_state", f"tool invocation {inv.id} is {inv.status}")
        return t

    def resolve_interrupt(self, interrupt: dict[str, Any], allow: bool, reason: str) -> None:
        """``POST /interrupts/{id}/resolve``: approve or reject the tool it guards."""
        if interrupt["status"] != "pending":
            raise ApiError(400, "invalid_state", f"interrupt {interrupt['id']} is "
                           f"{interrupt['status']}, not pending")  # fmt: skip
        inv = self.tools[interrupt["resource_id"]]
        if allow:
            self.approve(inv)
        else:
            self.reject(inv, reason)

    def _resolve_approval(self, inv: ToolInvocation, allow: bool) -> Turn:
        if self.w.approvals_require_sign_in:
            raise ApiError(403, "requires_sign_in",
                           "approving tools needs a signed-in session, not an API key")  # fmt: skip
        if inv.status != "awaiting_approval":
            raise ApiError(400, "invalid_state", f"tool invocation {inv.id} is {inv.status}, "
                           "not awaiting_approval")  # fmt: skip
        t = self._turn_of(inv)
        for interrupt in t.chat.interrupts:
            if interrupt["resource_id"] == inv.id:
                interrupt.update(status="resolved", resolution="allow" if allow else "deny",
                                 resolved_at=rfc3339(self.w.now()))  # fmt: skip
        t.chat.interrupts = [i for i in t.chat.interrupts if i["resource_id"] != inv.id]
        t.run.state = "working"
        t.run.interrupt_tool_id = None
        return t

    def approve(self, inv: ToolInvocation) -> None:
        """``POST /tools/{id}/invoke``: the tool runs (its task starts)."""
        t = self._resolve_approval(inv, allow=True)
        inv.status, inv.updated_at = "in_progress", self.w.now()
        self.pub_run(t.chat, t.run)
        self.pub_chat(t.chat)
        self.resume(t)

    def reject(self, inv: ToolInvocation, reason: str) -> None:
        """``POST /tools/{id}/reject``: the tool is cancelled and the reply goes on."""
        t = self._resolve_approval(inv, allow=False)
        inv.status, inv.updated_at = "cancelled", self.w.now()
        inv.result = f"rejected: {reason}" if reason else "rejected"
        self.pub_msg(t.chat, t.message)
        self.pub_run(t.chat, t.run)
        self.pub_chat(t.chat)
        self.resume(t)

    def client_result(self, inv: ToolInvocation, result: str) -> None:
        """``POST /tools/{id}``: the result of a client tool."""
        if inv.type != "client" or inv.status != "awaiting_input":
            raise ApiError(400, "invalid_state", f"tool invocation {inv.id} is a {inv.type} "
                           f"tool in {inv.status}; it takes no client result")  # fmt: skip
        t = self._turn_of(inv)
        inv.status, inv.updated_at, inv.result = "completed", self.w.now(), result
        self.pub_msg(t.chat, t.message)
        self.resume(t)
