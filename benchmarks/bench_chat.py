"""Chat streaming: a long reply streaming into the chat screen while the user types (B11, B12).

The real :class:`~infdash.ui.screens.chat.ChatScreen` runs headless at 160x50 (no server: its
events go through :meth:`~infdash.ui.screens.chat.ChatScreen.deliver`, as the session's
worker hands them over).  A producer appends one token of ~4
characters per tick to an assistant message of Markdown with code fences and tables (taken
from the simulator's assistant), posting a ``MessageUpdated`` per token as a delta stream
does, then the final message.  A typist types into the chat's input every 100 ms; its key →
frame latency is measured at the frame that shows the character (``benchmarks/_frames.py``).

- B11: a 40 KB reply at 200 tokens/s (~50 s): key → frame p50 ≤ 25 ms and p99 ≤ 100 ms; last
  token → the frame showing the final Markdown ≤ 100 ms; the Markdown source byte-identical
  to the reply.
- B12: an 8 KB reply at 1,000 tokens/s: key → frame p99 ≤ 100 ms.

Each runs ``RUNS`` (3) times; medians are printed.  ``INFDASH_BENCH_B11_KB`` shortens B11 for a
quicker look.  Textual's ``Markdown`` fed through ``MarkdownStream`` token by token (what other
chat clients do) is measured once on B12's stream as the naive baseline.

Run: ``python -m benchmarks.bench_chat``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Input, Markdown

from benchmarks._frames import FrameProbe, percentile, ready, send_key
from infdash.api import InferenceClient, MessageUpdated
from infdash.api.models.chats import ChatMessage, ContentPart
from infdash.scheduler import Scheduler
from infdash.sim.agents import CORPUS
from infdash.ui.gc_freeze import freeze_startup_objects, unfreeze_objects
from infdash.ui.screens.chat import ChatScreen
from infdash.ui.services import Services
from infdash.ui.widgets.chat_message import ChatMessageView
from infdash.ui.widgets.markdown_block import MarkdownBlock

SIZE = (160, 50)
RUNS = int(os.environ.get("INFDASH_BENCH_RUNS", "3"))
B11_KB = float(os.environ.get("INFDASH_BENCH_B11_KB", "40"))
TOKEN = 4
"""Characters per streamed token."""
KEY_GAP = 0.1
KEY_TIMEOUT = 5.0
AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TARGETS: dict[str, float] = {
    "B11 key → frame p50": 25.0,
    "B11 key → frame p99": 100.0,
    "B11 last token → final frame": 100.0,
    "B12 key → frame p99": 100.0,
}


def reply_of(size: int) -> str:
    """``size`` characters of the assistant's Markdown (fences, tables, lists), cut at a
    paragraph so the fences close."""
    text = ""
    n = 0
    while len(text) < size:
        text += CORPUS[n % len(CORPUS)] + "\n"
        n += 1
    cut = text.rfind("\n\n", 0, size)
    return text[: cut if cut > 0 else size]


def message(text: str, status: str) -> ChatMessage:
    return ChatMessage(
        id="msg_reply",
        chat_id="chat_bench",
        role="assistant",
        status=status,
        order=2,
        content=(ContentPart("text", text),),
        created_at=AT,
    )


class ChatBenchApp(App[None]):
    """The chat screen alone, the garbage collector treated as ``InfdashApp`` treats it."""

    def __init__(self) -> None:
        super().__init__()
        client = InferenceClient("http://127.0.0.1:9", "inf_bench")  # never called
        self.services = Services(client, Scheduler(client))
        self.chat = ChatScreen(self.services)  # a new chat: nothing is fetched on mount

    async def on_mount(self) -> None:
        await self.push_screen(self.chat)
        self.call_after_refresh(freeze_startup_objects)

    async def on_unmount(self) -> None:
        unfreeze_objects()
        await self.services.client.aclose()


async def typist(app: App[Any], probe: FrameProbe, stop: asyncio.Event) -> list[float]:
    """Type a character every 100 ms until ``stop``; key → frame seconds per character."""
    field = app.screen.query_one(Input)
    samples: list[float] = []
    while not stop.is_set():
        typed = len(field.value) + 1
        painted = probe.when(lambda n=typed: len(field.value) >= n)  # type: ignore[misc]
        sent = send_key(app, "a", "a")
        try:
            samples.append(await asyncio.wait_for(painted, KEY_TIMEOUT) - sent)
        except TimeoutError:
            samples.append(KEY_TIMEOUT)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), KEY_GAP)
    return samples


async def stream(size: int, tokens_per_second: float) -> dict[str, float]:
    """One reply of ``size`` characters at ``tokens_per_second``; the figures of one run."""
    text = reply_of(size)
    app = ChatBenchApp()
    async with app.run_test(size=SIZE):
        probe = FrameProbe(app)
        await ready(app, probe)
        app.screen.query_one(Input).focus()
        stop = asyncio.Event()
        keys = asyncio.create_task(typist(app, probe, stop))
        gap = 1 / tokens_per_second
        start = time.perf_counter()
        for n, end in enumerate(range(TOKEN, len(text) + TOKEN, TOKEN), start=1):
            update = MessageUpdated(message("", "pending"), text[:end], source="delta")
            app.chat.deliver(update)  # as the session's worker hands each event over
            delay = start + n * gap - time.perf_counter()
            await asyncio.sleep(max(0.0, delay))
        final = MessageUpdated(message(text, "ready"), text)

        def shown() -> bool:
            view = app.chat.views.get("msg_reply")
            return view is not None and view.final_drawn and view.markdown_source == text

        painted = probe.when(shown)
        last = time.perf_counter()
        app.chat.deliver(final)
        drain = await asyncio.wait_for(painted, 30.0) - last
        stop.set()
        samples = await keys
        view = app.chat.views["msg_reply"]
        assert isinstance(view, ChatMessageView)
        identical = "".join(block.source for block in view.query(MarkdownBlock)) == text
    return {
        "key p50": percentile(samples, 0.5) * 1000,
        "key p99": percentile(samples, 0.99) * 1000,
        "drain": drain * 1000,
        "identical": float(identical),
        "chars": float(len(text)),
    }


class NaiveApp(App[None]):
    """Textual's Markdown fed token by token through MarkdownStream, plus an input."""

    def compose(self) -> ComposeResult:
        yield Markdown("")
        yield Input()


async def naive(size: int, tokens_per_second: float) -> dict[str, float]:
    text = reply_of(size)
    app = NaiveApp()
    async with app.run_test(size=SIZE):
        probe = FrameProbe(app)
        await ready(app, probe)
        app.query_one(Input).focus()
        markdown = app.query_one(Markdown)
        markdown_stream = Markdown.get_stream(markdown)
        stop = asyncio.Event()
        keys = asyncio.create_task(typist(app, probe, stop))
        gap = 1 / tokens_per_second
        start = time.perf_counter()
        for n, at in enumerate(range(0, len(text), TOKEN), start=1):
            await markdown_stream.write(text[at : at + TOKEN])
            await asyncio.sleep(max(0.0, start + n * gap - time.perf_counter()))
        await markdown_stream.stop()
        stop.set()
        samples = await keys
    return {"key p50": percentile(samples, 0.5) * 1000, "key p99": percentile(samples, 0.99) * 1000}


def main() -> int:
    """Print medians of RUNS against the targets; 0 when all are met."""
    b11 = [asyncio.run(stream(int(B11_KB * 1024), 200)) for _ in range(RUNS)]
    b12 = [asyncio.run(stream(8 * 1024, 1000)) for _ in range(RUNS)]
    baseline = asyncio.run(naive(8 * 1024, 1000))

    def median(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    figures = {
        "B11 key → frame p50": median(b11, "key p50"),
        "B11 key → frame p99": median(b11, "key p99"),
        "B11 last token → final frame": median(b11, "drain"),
        "B12 key → frame p99": median(b12, "key p99"),
    }
    ok = True
    for name, value in figures.items():
        target = TARGETS[name]
        met = value <= target
        ok = ok and met
        print(f"{name}: {value:.1f} ms (target ≤ {target:.0f} ms) {'ok' if met else 'MISSED'}")
    identical = all(run["identical"] for run in b11 + b12)
    ok = ok and identical
    print(f"B11/B12 Markdown source byte-identical to the reply: {'yes' if identical else 'NO'}")
    print(
        f"(median of {RUNS} run(s); B11 {b11[0]['chars']:,.0f} characters at 200 tokens/s, "
        f"B12 {b12[0]['chars']:,.0f} at 1,000 tokens/s; {TOKEN} characters a token)"
    )
    print(
        f"(Markdown + MarkdownStream fed token by token, B12's stream, one run: key → frame "
        f"p50 {baseline['key p50']:.0f} ms, p99 {baseline['key p99']:.0f} ms)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
