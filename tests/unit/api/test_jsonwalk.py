"""The stepwise decoder of list pages is ``json.loads``, item by item.

Property-style: seeded random JSON texts — every envelope shape, random JSON whitespace,
escaped and raw Unicode (astral, lone surrogates), escaped keys, odd numbers — decode to the
same value, type for type and key order included; the same texts, damaged, fail exactly as
``json.loads`` fails. That the GIL goes to the loop between items is measured, not tested
(``python -m benchmarks.bench_list_paging``: loop lag); here, that no decode call spans more
than one item.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import infdash.api.envelope as envelope_module
from infdash.api import jsonwalk
from infdash.api.envelope import parse_success
from infdash.api.errors import UnexpectedResponseError
from infdash.api.jsonwalk import loads_stepwise

from .fakes import Recorder, json_response, make_client

SEEDS = range(300)
_WS = ("", "", "", " ", "  ", "\n", "\t", "\r\n", " \n\t ")
_CHARS = 'aZ09 -_/"\\\b\f\n\r\t\x00\x1f\x7féß中\u2028\ufeff😀\U0010ffff\ud800\udfff'
_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (1 == 1.0 == True), key order and NaN
    and the sign of zero included."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return bool(a == b)


def _outcome(decode: Callable[[bytes], Any], content: bytes) -> tuple[Any, ...]:
    try:
        return ("ok", decode(content))
    except (ValueError, RecursionError) as exc:
        return ("error", type(exc), str(exc))


def _assert_same_outcome(content: bytes) -> None:
    got, want = _outcome(loads_stepwise, content), _outcome(json.loads, content)
    if want[0] == "ok":
        assert got[0] == "ok", content[:300]
        assert _same(got[1], want[1]), content[:300]
    else:
        assert got == want, content[:300]


class _Gen:
    """Random JSON text, token by token, with random whitespace and escape choices."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def ws(self) -> str:
        return self.rng.choice(_WS)

    def string(self, text: str | None = None) -> str:
        rng = self.rng
        if text is None:
            text = "".join(rng.choice(_CHARS) for _ in range(rng.randrange(0, 12)))
        out = ['"']
        for char in text:
            code = ord(char)
            if char in '"\\' or code < 0x20:  # must be escaped
                short = _SHORT.get(char)
                out.append(short if short and rng.random() < 0.5 else f"\\u{code:04x}")
            elif code > 0xFFFF and rng.random() < 0.5:  # astral: raw or a surrogate pair
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04X}")
            elif rng.random() < 0.2:
                out.append("\\/" if char == "/" else f"\\u{code:04x}")
            else:
                out.append(char)
        out.append('"')
        return "".join(out)

    def number(self) -> str:
        rng = self.rng
        text = rng.choice(("", "-")) + rng.choice(("0", str(rng.randrange(1, 10**20))))
        if rng.random() < 0.4:
            text += "." + str(rng.randrange(0, 10**6)).zfill(rng.randrange(1, 4))
        if rng.random() < 0.3:
            text += rng.choice("eE") + rng.choice(("", "+", "-")) + str(rng.randrange(0, 400))
        return text

    def scalar(self) -> str:
        kind = self.rng.randrange(5)
        if kind == 0:
            return self.rng.choice(("true", "false", "null", "NaN", "Infinity", "-Infinity"))
        if kind in (1, 2):
            return self.number()
        return self.string()

    def value(self, depth: int = 0) -> str:
        kind = self.rng.randrange(4 if depth < 4 else 1)
        if kind == 0:
            return self.scalar()
        if kind == 1:
            return self.array([self.value(depth + 1) for _ in range(self.rng.randrange(0, 4))])
        keys = [self.string() for _ in range(self.rng.randrange(0, 5))]
        return self.obj([(k, self.value(depth + 1)) for k in keys])

    def array(self, values: list[str]) -> str:
        ws = self.ws
        if not values:
            return "[" + ws() + "]"
        return "[" + ",".join(ws() + v + ws() for v in values) + "]"

    def obj(self, pairs: list[tuple[str, str]]) -> str:
        ws = self.ws
        if not pairs:
            return "{" + ws() + "}"
        return "{" + ",".join(ws() + k + ws() + ":" + ws() + v + ws() for k, v in pairs) + "}"

    def key(self, name: str) -> str:
        """``name`` as a key, sometimes with escapes (``"d\\u0061ta"`` is ``data``)."""
        return self.string(name)

    def item(self) -> str:
        if self.rng.random() < 0.8:  # mostly task-like objects
            keys = ["id", "status", "input", "output", "data", "items", "logs"]
            self.rng.shuffle(keys)
            return self.obj([(self.key(k), self.value(1)) for k in keys[: self.rng.randrange(8)]])
        return self.value(1)

    def page(self) -> str:
        items = self.array([self.item() for _ in range(self.rng.randrange(0, 6))])
        rng = self.rng
        extra = [
            (self.key("next_cursor"), self.string()),
            (self.key("has_next"), rng.choice(("true", "false"))),
            (self.key("total_items"), self.number()),
        ]
        if rng.random() < 0.1:  # "items" twice: the last one wins, in the first one's place
            extra.append((self.key("items"), self.value(1)))
        pairs = [(self.key("items"), items if rng.random() < 0.9 else self.value(1)), *extra]
        rng.shuffle(pairs)
        return self.obj(pairs)

    def document(self) -> str:
        """One of the envelope shapes ``parse_success`` reads, or something near one."""
        rng = self.rng
        shape = rng.randrange(8)
        page = self.page()
        messages = self.array([self.value(1) for _ in range(rng.randrange(3))])
        if shape == 0:  # current {data, messages}
            pairs = [(self.key("data"), page), (self.key("messages"), messages)]
        elif shape == 1:  # v1 {success, status, data}
            pairs = [('"success"', "true"), ('"status"', "200"), (self.key("data"), page)]
        elif shape == 2:  # X-API-Version 2: the bare page
            return self.ws() + page + self.ws()
        elif shape == 3:  # data as a bare list
            pairs = [(self.key("data"), self.array([self.item() for _ in range(3)]))]
        elif shape == 4:  # a top-level array
            return self.ws() + self.array([self.item() for _ in range(3)]) + self.ws()
        elif shape == 5:  # envelopes inside envelopes: deeper than the walker goes
            inner = self.obj([(self.key("data"), self.obj([(self.key("data"), page)]))])
            pairs = [(self.key("data"), inner)]
        elif shape == 6:  # data repeated, a scalar data, an empty one
            later = rng.choice((page, "{}"))
            pairs = [(self.key("data"), self.scalar()), (self.key("data"), later)]
        else:  # anything at all
            return self.ws() + self.value() + self.ws()
        rng.shuffle(pairs)
        return self.ws() + self.obj(pairs) + self.ws()


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # lone surrogates, as json.loads reads them


def test_generated_documents_decode_as_json_loads_does() -> None:
    walked = 0
    for seed in SEEDS:
        text = _Gen(seed).document()
        content = _encode(text)
        want = json.loads(content)
        assert _same(loads_stepwise(content), want), (seed, text)
        if text.lstrip(" \t\n\r")[:1] in ("{", "["):  # walked, not the json.loads fallback
            assert _same(jsonwalk._document(text), want), (seed, text)
            walked += 1
    assert walked > len(SEEDS) // 2


def test_damaged_documents_fail_as_json_loads_fails() -> None:
    """Cut, a character dropped or one added: the same error, or the same value when the
    damage left valid JSON. The walker alone never accepts what json.loads rejects."""
    for seed in SEEDS:
        gen = _Gen(seed)
        text = gen.document()
        rng = gen.rng
        at = rng.randrange(len(text) + 1)
        for damaged in (
            text[:at],
            text[:at] + text[at + 1 :],
            text[:at] + rng.choice(',:[]{}"\\ x0\x0c\xa0') + text[at:],
        ):
            _assert_same_outcome(_encode(damaged))
            try:
                want = json.loads(damaged)
            except ValueError:
                with pytest.raises((ValueError, StopIteration)):  # the scanner's "no value"
                    jsonwalk._document(damaged)
            else:
                if damaged.lstrip(" \t\n\r")[:1] in ("{", "["):
                    assert _same(jsonwalk._document(damaged), want), (seed, damaged)


@pytest.mark.parametrize(
    "content",
    [
        b'{"data":{"items":[]},"messages":[]}',
        b' \r\n\t{ "data" : { "items" : [ ] } } \n',
        b"{}",
        b"[]",
        b"[ ]",
        b'{"data":{"items":[[1,[2]],[],{}]}}',
        b'{"d\\u0061ta":{"\\u0069tems":[{"a\\"b":"\\ud83d\\ude00"}]}}',
        b'{"data":NaN,"items":[Infinity,-Infinity,-0.0,1E400,-0,12345678901234567890]}',
        b'{"data":{"items":[1,2,],"x":1}}',  # trailing comma
        b'{"data":{"items":[1 2]}}',
        b'{"data":{"items":[1,2]},}',
        b'{"a" 1}',
        b"{1:2}",
        b"{'a':1}",
        b'{"a":1}x',
        b'{"a":1} {}',
        b'{"a":1',
        b'{"data":{"items":[1,2',
        b"[1,]",
        b"[,1]",
        b"",
        b"   ",
        b"\x0c{}",  # form feed: not JSON whitespace
        b"{}\x0c",
        "\u00a0{}".encode(),  # nor is a no-break space
        b'{"a":"\x01"}',  # a raw control character (strict)
        b'{"a":"\xff"}',  # not UTF-8
        b"\xef\xbb\xbf" + b'{"data":[1]}',  # a UTF-8 BOM: json.loads of bytes takes it
        b"\xef\xbb\xbf\xef\xbb\xbf{}",
        '{"data":["é",1]}'.encode("utf-16-le"),
        '{"data":["é",1]}'.encode("utf-16"),
        '{"data":["é",1]}'.encode("utf-32-be"),
        b'"a string"',
        b"123",
        b"null",
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="too-deep"),  # RecursionError
        pytest.param(b'{"data":' + b"[" * 100_000 + b"]" * 100_000 + b"}", id="too-deep-data"),
    ],
)
def test_edge_cases_match_json_loads(content: bytes) -> None:
    _assert_same_outcome(content)


@pytest.mark.parametrize(
    "shape",
    [
        lambda page: {"data": page, "messages": [{"level": "info"}]},
        lambda page: {"success": True, "status": 200, "data": page},
        lambda page: page,
        lambda page: {"data": page["items"]},
        lambda page: page["items"],
    ],
    ids=["current", "v1", "bare", "data-list", "top-list"],
)
def test_no_decode_call_spans_more_than_one_item(
    shape: Callable[[dict[str, Any]], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [{"id": f"task_{n}", "status": n % 9, "input": {"prompt": "x" * n}} for n in range(50)]
    page = {"items": items, "next_cursor": "c50", "has_next": True}
    text = json.dumps(shape(page), indent=1)
    spans: list[str] = []
    scan = jsonwalk._scan

    def spy(s: str, idx: int) -> tuple[Any, int]:
        value, end = scan(s, idx)
        spans.append(s[idx:end])
        return value, end

    monkeypatch.setattr(jsonwalk, "_scan", spy)
    assert jsonwalk._document(text) == json.loads(text)
    longest_item = max(len(json.dumps(item, indent=1)) + 50 for item in items)
    assert max(len(span) for span in spans) <= longest_item
    assert sum(span.startswith("{") for span in spans) == len(items)  # one call per item


@pytest.mark.parametrize(
    "content",
    [
        b'{"data":{"items":[{"id":"t1"}],"next_cursor":"c"},"messages":[{"level":"warning"}]}',
        b'{"success":true,"status":200,"data":{"items":[]}}',
        b'{"items":[{"id":"t1"}],"has_next":false}',
        b"[1, 2]",
        b"",
        b"<html>busy</html>",
        b'{"data":{"items":[1,]}}',
    ],
)
def test_parse_success_stepwise_matches_parse_success(content: bytes) -> None:
    response = httpx.Response(200, content=content, headers={"content-type": "text/html"})

    def parse(stepwise: bool) -> tuple[Any, ...]:
        try:
            return ("ok", parse_success(response, "POST", "/tasks/list", stepwise=stepwise))
        except UnexpectedResponseError as exc:
            return ("error", str(exc), exc.body)

    assert parse(stepwise=True) == parse(stepwise=False)


async def test_off_loop_page_decodes_stepwise(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[bytes] = []

    def spy(content: bytes) -> Any:
        decoded.append(content)
        return loads_stepwise(content)

    monkeypatch.setattr(envelope_module, "loads_stepwise", spy)
    rec = Recorder()
    body = {
        "data": {"items": [{"id": "t1"}, {"id": "t2"}, "junk"], "next_cursor": "c2"},
        "messages": [],
    }
    rec.add("POST", "/tasks/list", json_response(200, body))

    def parse(raw: Any) -> str:
        if not isinstance(raw, dict):
            raise ValueError("not a task")
        return str(raw["id"])

    client, _ = make_client(rec)
    async with client:
        page = await client.list_page("/tasks/list", parse, off_loop=True, limit=3)
    assert page.items == ("t1", "t2")
    assert page.skipped == 1
    assert page.next_cursor == "c2"
    assert len(decoded) == 1
