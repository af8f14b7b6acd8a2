"""SSE and NDJSON frame parsing (R20, R21, R23): spec cases and arbitrary chunk splits."""

from __future__ import annotations

import json
import random

import pytest

from infdash.api.streams import HEARTBEAT, NDJSONParser, SSEParser, StreamFrame, make_parser


def _feed(parser: SSEParser | NDJSONParser, chunks: list[bytes]) -> list[StreamFrame]:
    frames: list[StreamFrame] = []
    for chunk in chunks:
        frames.extend(parser.feed(chunk))
    frames.extend(parser.flush())
    return frames


def _sse(data: bytes, chunks: list[bytes] | None = None) -> tuple[list[StreamFrame], SSEParser]:
    parser = SSEParser()
    return _feed(parser, chunks if chunks is not None else [data]), parser


def test_sse_basic_update_with_id_and_done() -> None:
    frames, parser = _sse(
        b'id: 1\nevent: update\ndata: {"id":"t","status":7}\n\n'
        b": heartbeat\n\n"
        b"id: 2\nevent: done\ndata: {}\n\n"
    )
    assert frames[0] == StreamFrame("update", {"id": "t", "status": 7}, None, "1")
    assert frames[1] == HEARTBEAT
    assert frames[2].event == "done"
    assert frames[2].data == {}
    assert frames[2].id == "2"
    assert parser.last_event_id == "2"
    assert parser.stats.frames == 2
    assert parser.stats.heartbeats == 1


def test_sse_unknown_event_no_data_multiline_and_comments() -> None:
    frames, parser = _sse(
        b'event: mystery\ndata: {"a": 1}\n\n'  # unknown type: parsed, left to the caller
        b"event: update\n\n"  # no data: not dispatched (spec)
        b'data: {"x":\ndata: 1}\n\n'  # multi-line data joined with \n
        b":comment without space\n"
        b"foo: ignored field\n"
        b"data\n\n"  # field with no colon: data = ""
    )
    assert frames[0] == StreamFrame("mystery", {"a": 1})
    assert frames[1] == StreamFrame("message", {"x": 1})
    assert frames[2] == HEARTBEAT
    assert frames[3] == StreamFrame("message", None, None)
    assert len(frames) == 4
    assert parser.stats.malformed == 0


def test_sse_bom_and_mixed_line_endings() -> None:
    frames, _ = _sse(b'\xef\xbb\xbfevent: update\r\ndata: {"n":1}\r\rdata: {"n":2}\n\r\n')
    assert [f.data for f in frames] == [{"n": 1}, {"n": 2}]
    assert frames[0].event == "update"
    assert frames[1].event == "message"


def test_sse_crlf_split_across_chunks_is_one_line_end() -> None:
    # Misreading a split CRLF as CR + LF would add a blank line and cut the event in two.
    frames, parser = _sse(b"", [b"data: [1,\r", b"\ndata: 2]\r", b"\n\r", b"\n"])
    assert [f.data for f in frames] == [[1, 2]]
    assert parser.stats.malformed == 0
    # A trailing CR at EOF still ends the line.
    frames, _ = _sse(b"", [b"data: 3\r", b"\r"])
    assert [f.data for f in frames] == [3]


def test_sse_id_with_nul_is_ignored_and_retry_parsed() -> None:
    frames, parser = _sse(
        b"id: 5\ndata: 1\n\nid: 6\x007\nretry: 1500\ndata: 2\n\nretry: x\ndata: 3\n\n"
    )
    assert [f.id for f in frames] == ["5", None, None]
    assert parser.last_event_id == "5"
    assert frames[1].retry == 1500
    assert frames[2].retry == 1500


def test_sse_malformed_json_skipped_and_counted_later_frames_still_parsed() -> None:
    frames, parser = _sse(b'data: {not json\n\ndata: {"id":"t",\n\ndata: [1]\n\ndata: 2\n\n')
    assert [f.data for f in frames] == [[1], 2]
    assert parser.stats.malformed == 2


def test_sse_half_event_at_eof_is_dropped() -> None:
    frames, _ = _sse(b"data: 1\n\ndata: 2\n")
    assert [f.data for f in frames] == [1]


def test_multibyte_utf8_split_across_chunks_and_invalid_bytes() -> None:
    payload = json.dumps({"text": "héllo → 世界 🎉"}, ensure_ascii=False).encode()
    raw = b"data: " + payload + b"\n\n"
    for cut in range(1, len(raw)):
        frames, _ = _sse(b"", [raw[:cut], raw[cut:]])
        assert frames[0].data == {"text": "héllo → 世界 🎉"}, cut
    frames, parser = _sse(b'data: {"text": "bad \xff\xfe byte"}\n\n')
    assert frames[0].data == {"text": "bad \ufffd\ufffd byte"}
    assert parser.stats.malformed == 0


def test_unicode_line_separators_are_not_line_breaks() -> None:
    text = "a\u2028b\u2029c\u0085d"
    frames, _ = _sse(b"data: " + json.dumps(text, ensure_ascii=False).encode() + b"\n\n")
    assert frames[0].data == text


SSE_SCRIPT = (
    '\ufeffid: 1\r\nevent: update\r\ndata: {"id":"t","status":2,"s":"ü✓🎉"}\r\n\r\n'
    ": heartbeat\n\n"
    'id: 2\revent: delta\rdata: {"resource_id":"","seq":1,\r'
    'data: "delta":{"response":"x"}}\r\r'
    "event: bogus\ndata: nope\n\n"
    'id: 3\nevent: update\ndata: {"id":"t","status":10}\n\n'
).encode()


@pytest.mark.parametrize("seed", range(40))
def test_sse_any_chunking_gives_the_same_frames(seed: int) -> None:
    expected, _ = _sse(SSE_SCRIPT)
    assert [f.event for f in expected] == ["update", "heartbeat", "delta", "update"]
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(SSE_SCRIPT)), rng.randint(1, 30)))
    chunks = [SSE_SCRIPT[a:b] for a, b in zip([0, *cuts], [*cuts, len(SSE_SCRIPT)], strict=True)]
    frames, parser = _sse(b"", chunks)
    assert frames == expected
    assert parser.stats.malformed == 1


NDJSON_SCRIPT = (
    '\ufeff{"id":"task_1","status":2,"created_at":"2026-10-01T10:00:00Z"}\n'
    '{"data":{"id":"task_1","status":7},"fields":["status"]}\r\n'
    '{"type":"heartbeat"}\n'
    "\n"
    "not json\n"
    "[1,2]\n"
    '{"event":"delta","data":{"resource_id":"","seq":1,"delta":{"response":"par"}}}\n'
    '{"id":"task_1","status":10,"output":{"text":"ü"},"logs":[]}'
).encode()


def test_ndjson_shapes() -> None:
    frames = _feed(NDJSONParser(), [NDJSON_SCRIPT])
    assert frames[0].event == "update"
    assert frames[0].fields is None
    assert frames[0].data["status"] == 2
    assert frames[1] == StreamFrame("update", {"id": "task_1", "status": 7}, ("status",))
    assert frames[2] == HEARTBEAT
    assert frames[3].event == "delta"
    assert frames[3].data["seq"] == 1
    assert frames[4].data["output"] == {"text": "ü"}  # last line without newline: flushed
    assert len(frames) == 5


@pytest.mark.parametrize("seed", range(40))
def test_ndjson_any_chunking_gives_the_same_frames(seed: int) -> None:
    expected_parser = NDJSONParser()
    expected = _feed(expected_parser, [NDJSON_SCRIPT])
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(NDJSON_SCRIPT)), rng.randint(1, 30)))
    chunks = [
        NDJSON_SCRIPT[a:b] for a, b in zip([0, *cuts], [*cuts, len(NDJSON_SCRIPT)], strict=True)
    ]
    parser = NDJSONParser()
    assert _feed(parser, chunks) == expected
    assert parser.stats.malformed == 2
    assert parser.stats.heartbeats == 1


def test_make_parser() -> None:
    assert isinstance(make_parser("sse"), SSEParser)
    assert isinstance(make_parser("ndjson"), NDJSONParser)
    with pytest.raises(ValueError, match="unknown stream format"):
        make_parser("xml")


def test_batch_decoding_falls_back_per_frame() -> None:
    # Two objects on one line are one malformed frame, not two frames (count check).
    parser = NDJSONParser()
    frames = _feed(parser, [b'{"id":"a"}\n{"id":"b"},{"id":"c"}\n{"id":"d"}\n'])
    assert [f.data["id"] for f in frames] == ["a", "d"]
    assert parser.stats.malformed == 1
    # One bad payload among good ones in the same chunk spoils nothing else.
    frames, sse_parser = _sse(b'data: {"n":1}\n\ndata: {"n":\n\ndata: {"n":3}\n\n')
    assert [f.data for f in frames] == [{"n": 1}, {"n": 3}]
    assert sse_parser.stats.malformed == 1


def test_oversized_line_is_dropped_and_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    import infdash.api.streams as streams

    monkeypatch.setattr(streams, "MAX_LINE_BYTES", 16)
    parser = NDJSONParser()
    frames = _feed(parser, [b'{"id": "' + b"x" * 40, b'"}\n{"id":"ok"}\n'])
    assert [f.data for f in frames if f.data == {"id": "ok"}] == [{"id": "ok"}]
    assert parser.stats.malformed >= 1


@pytest.mark.parametrize(
    "ending",
    [[b"\n"], [b"\r\n"], [b"\r", b"\n"], [b"\r"]],
    ids=["lf", "crlf", "crlf-split", "cr"],
)
def test_an_oversized_line_is_dropped_whole_and_counted_at_once(
    monkeypatch: pytest.MonkeyPatch, ending: list[bytes]
) -> None:  # R24
    import infdash.api.streams as streams

    monkeypatch.setattr(streams, "MAX_LINE_BYTES", 16)
    parser = SSEParser()
    chunks = [
        b"data: 1\n\n",
        b"data: " + b"x" * 20,  # over the cap: dropped here…
        b"data: 3",  # …with the rest of its line, which must not read as a field
        *ending,
        b"data: 2\n\n",
    ]
    frames: list[StreamFrame] = []
    for chunk in chunks:
        frames.extend(parser.feed(chunk))
    assert parser.stats.malformed == 1  # counted before EOF: the stream may never end
    frames.extend(parser.flush())
    assert [f.data for f in frames] == [1, 2]
    assert parser.stats.malformed == 1
