"""Log text: plausible, phase-tagged lines with some long and some non-ASCII ones.

Pure functions of a random stream, so the same task gives the same lines whether its logs are
written live or generated on first read for a seeded past task.
"""

from __future__ import annotations

import base64
import random
from typing import Any

from infdash.sim.catalog import AppSpec

LOG_BUILD, LOG_RUN, LOG_SERVE, LOG_SETUP, LOG_TASK = 0, 1, 2, 3, 4

_WORDS = (
    "tensor", "batch", "latent", "scheduler", "cache", "shard", "kernel", "token", "vae",
    "unet", "attention", "prompt", "seed", "sampler", "checkpoint", "warmup", "cuda", "fp16",
)  # fmt: skip
_UNICODE = (
    "✓ étape terminée — ok",
    "進捗: モデルを読み込み中 ▰▰▰▱▱",
    "Ωμέγα ↦ résumé naïve façade",
    "🚀 warm path hit, 🧠 weights resident",
    "Привет, мир — шаг завершён",
    "ℹ️ 处理完成 (汉字) → next",
)


def encode(text: str, encoding: str) -> str:
    """``TaskLog.content`` as the wire carries it: base64 (Go ``[]byte``) or plain."""
    if encoding == "plain":
        return text
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _run_line(spec: AppSpec, rng: random.Random, n: int) -> str:
    roll = rng.random()
    if roll < 0.04:
        return rng.choice(_UNICODE)
    if roll < 0.07:
        payload = " ".join(f"{rng.choice(_WORDS)}={rng.randint(0, 99999)}" for _ in range(60))
        return f"[{spec.name}] debug dump: {payload}"
    if roll < 0.09:
        return f"WARNING: {rng.choice(_WORDS)} {rng.choice(_WORDS)} slower than expected"
    pct = min(100, n)
    return (
        f"[{spec.name}] step {n}: {rng.choice(_WORDS)} {rng.choice(_WORDS)} "
        f"loss={rng.random():.4f} {pct}%"
    )


def phase_lines(
    phase: str, spec: AppSpec, rng: random.Random, count: int, first: int = 0
) -> list[tuple[int, str]]:
    """``count`` lines of one phase as ``(log_type, text)``; ``first`` numbers run steps."""
    out: list[tuple[int, str]] = []
    for i in range(count):
        n = first + i
        if phase == "build":
            layer = f"{rng.getrandbits(48):012x}"
            out.append(
                (LOG_BUILD, f"#{n + 1} pulling layer sha256:{layer} {rng.randint(1, 900)}MB")
            )
        elif phase == "prepare":
            out.append((LOG_TASK, f"preparing environment for {spec.ref} ({rng.choice(_WORDS)})"))
        elif phase == "serve":
            out.append((LOG_SERVE, f"loading weights shard {n + 1}/8 into GPU memory"))
        elif phase == "setup":
            out.append((LOG_SETUP, f"setup: {rng.choice(_WORDS)} initialised"))
        elif phase == "run":
            out.append((LOG_RUN, _run_line(spec, rng, n + 1)))
        elif phase == "upload":
            out.append((LOG_TASK, f"uploading output part {n + 1} ({rng.randint(1, 4096)} KiB)"))
        else:
            out.append((LOG_TASK, f"{phase}"))
    return out


def log_entry(
    task_id: str, n: int, at: str, log_type: int, text: str, encoding: str
) -> dict[str, Any]:
    """One ``TaskLog`` with a stable id; ``text`` is one or more lines each ending in ``\\n``."""
    return {
        "id": f"log_{task_id.split('_', 1)[-1]}_{n:06d}",
        "created_at": at,
        "updated_at": at,
        "task_id": task_id,
        "log_type": log_type,
        "content": encode(text, encoding),
    }


LLM_TEXT = (
    "Sure! Here is a short answer. The simulator streams this reply token by token, "
    "so a dashboard can render deltas live — with unicode too: café, naïve, 東京. "
    "Each piece arrives as a delta event and the final output carries the whole text."
)


def llm_tokens(rng: random.Random) -> list[str]:
    """The reply of ``infsh/llm`` split into tokens (a word plus its following space)."""
    words = LLM_TEXT.split(" ")
    cut = rng.randint(max(8, len(words) // 2), len(words))
    return [w + (" " if i < cut - 1 else "") for i, w in enumerate(words[:cut])]
