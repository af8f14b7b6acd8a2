"""Token deltas (reference §4.5): merge ``LLMDelta`` fragments into an accumulated output.

Merge rules (sdk-py ``delta.py``): ``response`` and ``reasoning`` concatenate; ``tool_calls``
merge by ``index`` (inside: ``id``/``type`` replace, ``function.name`` replaces,
``function.arguments`` concatenates raw JSON fragments); ``usage`` and untagged fields replace.
"""

from __future__ import annotations

import copy
from typing import Any

from infdash.api.models.common import as_dict, opt_int

_CONCAT = frozenset({"response", "reasoning"})


def _merge_tool_call(target: dict[str, Any], fragment: dict[str, Any]) -> None:
    for key, value in fragment.items():
        if key == "function" and isinstance(value, dict):
            function = target.setdefault("function", {})
            if not isinstance(function, dict):
                function = target["function"] = {}
            for fkey, fvalue in value.items():
                if fkey == "arguments" and isinstance(fvalue, str):
                    function[fkey] = str(function.get(fkey) or "") + fvalue
                else:
                    function[fkey] = fvalue
        else:
            target[key] = value


def merge_delta(output: dict[str, Any], delta: dict[str, Any]) -> None:
    """Merge one ``LLMDelta`` into ``output`` in place."""
    for key, value in delta.items():
        if key in _CONCAT and isinstance(value, str):
            output[key] = str(output.get(key) or "") + value
        elif key == "tool_calls" and isinstance(value, list):
            calls = output.get("tool_calls")
            if not isinstance(calls, list):
                calls = output["tool_calls"] = []
            for fragment in value:
                if not isinstance(fragment, dict):
                    continue
                index = opt_int(fragment.get("index"))
                index = len(calls) if index is None else index
                if index < 0 or index > len(calls) + 1024:
                    continue
                while len(calls) <= index:
                    calls.append({"index": len(calls)})
                _merge_tool_call(calls[index], fragment)
        else:
            output[key] = copy.deepcopy(value)


class DeltaAccumulator:
    """Accumulated output for one resource; drops replayed deltas by ``seq``."""

    def __init__(self) -> None:
        self.output: dict[str, Any] = {}
        self.last_seq: int | None = None
        self.applied = 0

    def apply(self, event: Any) -> bool:
        """Apply a ``DeltaEvent`` ``{resource_id, seq, delta}``; False if ignored or replayed."""
        data = as_dict(event)
        delta = data.get("delta")
        if not isinstance(delta, dict):
            return False
        seq = opt_int(data.get("seq"))
        if seq is not None:
            if self.last_seq is not None and seq <= self.last_seq:
                return False
            self.last_seq = seq
        merge_delta(self.output, delta)
        self.applied += 1
        return True

    def snapshot(self) -> dict[str, Any]:
        return copy.deepcopy(self.output)
