"""A bounded log store with a phase filter, a search and a "only matching lines" view.

A log flood (50,000 lines/s, a million-line burst) must not grow memory without bound nor cost
per line more than a few list appends (performance.md §1.3, B7/B8).  Lines are stored in
columns, not objects: the text in a ``list[str]``, the phase as one byte, the time and sequence
number in ``array`` s, about 30 bytes per line beyond the text itself.  Past ``max_lines`` the
oldest lines are dropped and counted.

Lines are numbered by *absolute* index: the n-th line ever appended is ``n``, whatever has been
dropped since, so the search matches and the filtered view (sorted lists of absolute indices)
stay valid when the cap trims the top.  "Shown" lines are what the view displays: every retained
line, or only those of one phase, or only those that match the search.

Search is case-insensitive plain text (the term is escaped, never a regular expression), and
counts matching *lines*.
"""

from __future__ import annotations

import math
import re
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

PHASES: tuple[str, ...] = ("build", "setup", "serve", "run", "task")
"""The phases a task log belongs to (``TaskLogType``), in the order a task goes through them."""


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of a task log."""

    text: str
    """The line, one line without its newline (cleaned again on append)."""
    phase: str
    """``build``, ``setup``, ``serve``, ``run`` or ``task``."""
    at: datetime | None
    """When the line was logged, if known."""
    seq: int
    """The caller's sequence number (for de-duplication upstream; kept, not interpreted)."""


class Appended(NamedTuple):
    """What one :meth:`LogBuffer.extend` did to the shown lines."""

    added: int
    """Shown lines appended at the tail (some may already have been dropped again)."""
    dropped: int
    """Shown lines dropped from the top by the cap."""


CHUNK = 4096
"""Lines per frozen chunk of the text store."""


class _Texts:
    """Line texts in tuples of ``CHUNK``: the garbage collector skips them.

    A ``list`` of 100,000 strings is traversed by every full collection (~15 ms here); a tuple
    holding only strings is untracked by the collector after the first pass, so full chunks
    cost nothing.  Dropping from the front moves a head offset and frees whole chunks, so up to
    ``CHUNK - 1`` dropped texts stay in memory until their chunk goes.
    """

    __slots__ = ("_chunks", "_head", "_open")

    def __init__(self) -> None:
        self._chunks: list[tuple[str, ...]] = []
        self._open: list[str] = []
        self._head = 0

    def __len__(self) -> int:
        return len(self._chunks) * CHUNK + len(self._open) - self._head

    def __getitem__(self, rel: int) -> str:
        at = rel + self._head
        chunk, offset = divmod(at, CHUNK)
        if chunk < len(self._chunks):
            return self._chunks[chunk][offset]
        return self._open[at - len(self._chunks) * CHUNK]

    def __iter__(self) -> Iterator[str]:
        head = self._head
        for chunk in self._chunks:
            yield from chunk[head:] if head else chunk
            head = 0
        yield from self._open[head:] if head else self._open

    def extend(self, texts: list[str]) -> None:
        opened = self._open
        opened.extend(texts)
        while len(opened) >= CHUNK:
            self._chunks.append(tuple(opened[:CHUNK]))
            del opened[:CHUNK]

    def drop_front(self, count: int) -> None:
        self._head += count
        while self._head >= CHUNK and self._chunks:
            del self._chunks[0]
            self._head -= CHUNK
        if not self._chunks and self._head:
            del self._open[: self._head]
            self._head = 0

    def clear(self) -> None:
        self._chunks.clear()
        self._open.clear()
        self._head = 0


class LogBuffer:
    """At most ``max_lines`` log lines, with phase filter, search and match-only view."""

    def __init__(self, max_lines: int = 100_000) -> None:
        if max_lines < 1:
            raise ValueError("max_lines must be at least 1")
        self.max_lines = max_lines
        self.dropped = 0
        """Lines dropped by the cap so far (also the absolute index of the oldest retained)."""
        self._texts = _Texts()
        self._phases = bytearray()
        self._ats = array("d")
        self._seqs = array("q")
        self._phase_names: list[str] = list(PHASES)
        self._phase_codes: dict[str, int] = {name: i for i, name in enumerate(PHASES)}
        self._phase: int | None = None
        self._pattern: re.Pattern[str] | None = None
        self._term = ""
        self._only_matches = False
        self._matches = array("q")
        self._phase_view = array("q")
        self._staged_texts: list[str] = []
        self._staged_phases = bytearray()
        self._staged_ats = array("d")
        self._staged_seqs = array("q")

    # -- reading -------------------------------------------------------------------------------

    def __len__(self) -> int:
        """Retained lines."""
        return len(self._texts)

    @property
    def total(self) -> int:
        """Lines ever appended (retained + dropped)."""
        return self.dropped + len(self._texts)

    @property
    def phase(self) -> str | None:
        """The phase shown, or ``None`` for all."""
        return None if self._phase is None else self._phase_names[self._phase]

    @property
    def term(self) -> str:
        """The search term ("" for none)."""
        return self._term

    @property
    def pattern(self) -> re.Pattern[str] | None:
        """The compiled search (case-insensitive, escaped), or ``None``."""
        return self._pattern

    @property
    def only_matches(self) -> bool:
        """Whether only lines matching the search are shown."""
        return self._only_matches

    @property
    def matches(self) -> Sequence[int]:
        """Absolute indices of shown-phase lines matching the search, ascending (read-only)."""
        return self._matches

    def _view(self) -> array[int] | None:
        if self._only_matches:
            return self._matches
        if self._phase is not None:
            return self._phase_view
        return None

    @property
    def shown_count(self) -> int:
        """How many lines the view shows."""
        view = self._view()
        return len(self._texts) if view is None else len(view)

    def shown(self, row: int) -> int:
        """The absolute index of shown line ``row`` (0 ≤ row < shown_count)."""
        view = self._view()
        return self.dropped + row if view is None else view[row]

    def shown_row(self, index: int) -> int | None:
        """The shown row of absolute line ``index``, or ``None`` when it is not shown."""
        view = self._view()
        if view is None:
            row = index - self.dropped
            return row if 0 <= row < len(self._texts) else None
        row = bisect_left(view, index)
        return row if row < len(view) and view[row] == index else None

    def first_shown_at_or_after(self, index: int) -> int:
        """The shown row of the first shown line at or after absolute ``index`` (may be the end)."""
        view = self._view()
        if view is None:
            return min(max(0, index - self.dropped), len(self._texts))
        return bisect_left(view, index)

    def iter_shown(self) -> Iterator[int]:
        """Absolute indices of every shown line, oldest first."""
        view = self._view()
        if view is None:
            return iter(range(self.dropped, self.total))
        return iter(list(view))

    def text(self, index: int) -> str:
        """The text of retained absolute line ``index``."""
        return self._texts[index - self.dropped]

    def phase_of(self, index: int) -> str:
        """The phase of retained absolute line ``index``."""
        return self._phase_names[self._phases[index - self.dropped]]

    def timestamp(self, index: int) -> float | None:
        """POSIX time of retained absolute line ``index``, or ``None`` when unknown."""
        value = self._ats[index - self.dropped]
        return None if math.isnan(value) else value

    def seq(self, index: int) -> int:
        """The caller's sequence number of retained absolute line ``index``."""
        return self._seqs[index - self.dropped]

    def line(self, index: int) -> LogLine:
        """Retained absolute line ``index`` as a :class:`LogLine` (``at`` in local time)."""
        stamp = self.timestamp(index)
        at = None if stamp is None else datetime.fromtimestamp(stamp).astimezone()
        rel = index - self.dropped
        return LogLine(self._texts[rel], self.phase_of(index), at, self._seqs[rel])

    # -- writing -------------------------------------------------------------------------------

    def _code(self, phase: str) -> int:
        code = self._phase_codes.get(phase)
        if code is None:
            if len(self._phase_names) >= 255:
                return self._phase_codes["task"]
            code = len(self._phase_names)
            self._phase_names.append(phase)
            self._phase_codes[phase] = code
        return code

    @property
    def staged(self) -> int:
        """Lines staged by :meth:`stage` and not committed yet."""
        return len(self._staged_texts)

    def stage(self, lines: Iterable[LogLine]) -> None:
        """Take ``lines`` apart into columns now; they are shown after :meth:`commit`.

        Holding the ``LogLine`` objects until a flush would let them outlive a collection or
        two and get promoted, so floods would trigger full (slow) collections more often.
        """
        batch = lines if isinstance(lines, list) else list(lines)
        self._staged_texts.extend([line.text for line in batch])
        get = self._phase_codes.get
        codes = [get(line.phase) for line in batch]
        if None in codes:
            codes = [self._code(line.phase) for line in batch]
        self._staged_phases.extend(codes)  # type: ignore[arg-type]
        stamps = self._staged_ats
        last: datetime | None = None
        stamp = math.nan
        for line in batch:
            at = line.at
            if at is not last:
                last = at
                stamp = math.nan if at is None else at.timestamp()
            stamps.append(stamp)
        self._staged_seqs.extend([line.seq for line in batch])

    def commit(self) -> Appended:
        """Append the staged lines, then apply the cap."""
        start = self.total
        self._texts.extend(self._staged_texts)
        self._phases.extend(self._staged_phases)
        self._ats.extend(self._staged_ats)
        self._seqs.extend(self._staged_seqs)
        self._staged_texts = []
        self._staged_phases = bytearray()
        self._staged_ats = array("d")
        self._staged_seqs = array("q")
        end = self.total
        added = end - start
        if self._phase is not None:
            wanted = self._phase
            phases = self._phases
            base = self.dropped
            self._phase_view.extend(i for i in range(start, end) if phases[i - base] == wanted)
        if self._pattern is not None:
            self._matches.extend(self._scan(range(start, end)))
        view = self._view()
        if view is not None:
            added = len(view) - self._count_from(view, start)
        return Appended(added, self._trim())

    def extend(self, lines: Iterable[LogLine]) -> Appended:
        """Append ``lines`` (text already one clean line), then apply the cap."""
        self.stage(lines)
        return self.commit()

    @staticmethod
    def _count_from(view: array[int], start: int) -> int:
        return bisect_left(view, start)

    def _trim(self) -> int:
        """Drop lines past the cap; shown lines dropped."""
        overflow = len(self._texts) - self.max_lines
        if overflow <= 0:
            return 0
        self._texts.drop_front(overflow)
        del self._phases[:overflow]
        del self._ats[:overflow]
        del self._seqs[:overflow]
        self.dropped += overflow
        gone_matches = bisect_left(self._matches, self.dropped)
        gone_phase = bisect_left(self._phase_view, self.dropped)
        shown_gone = overflow
        if self._only_matches:
            shown_gone = gone_matches
        elif self._phase is not None:
            shown_gone = gone_phase
        del self._matches[:gone_matches]
        del self._phase_view[:gone_phase]
        return shown_gone

    def clear(self) -> None:
        """Forget every line, staged ones too (the dropped count restarts); filters stay."""
        self._staged_texts = []
        self._staged_phases = bytearray()
        self._staged_ats = array("d")
        self._staged_seqs = array("q")
        self.dropped = 0
        self._texts.clear()
        del self._phases[:]
        del self._ats[:]
        del self._seqs[:]
        self._matches = array("q")
        self._phase_view = array("q")

    # -- filters and search --------------------------------------------------------------------

    def _scan(self, indices: Iterable[int]) -> list[int]:
        pattern = self._pattern
        if pattern is None:
            return []
        search = pattern.search
        texts = self._texts
        base = self.dropped
        wanted = self._phase
        if wanted is None:
            return [i for i in indices if search(texts[i - base])]
        phases = self._phases
        return [i for i in indices if phases[i - base] == wanted and search(texts[i - base])]

    def set_phase(self, phase: str | None) -> None:
        """Show only ``phase`` lines (``None``: all); the search follows the filter."""
        if phase is None:
            self._phase = None
            self._phase_view = array("q")
        else:
            wanted = self._code(phase)
            self._phase = wanted
            base = self.dropped
            self._phase_view = array(
                "q", [base + i for i, code in enumerate(self._phases) if code == wanted]
            )
        self._rescan()

    def set_search(self, term: str) -> None:
        """Search for ``term`` (case-insensitive plain text; "" clears the search)."""
        self._term = term
        self._pattern = re.compile(re.escape(term), re.IGNORECASE) if term else None
        if self._pattern is None:
            self._only_matches = False
        self._rescan()

    def set_only_matches(self, only: bool) -> None:
        """Show only matching lines (ignored while there is no search)."""
        self._only_matches = only and self._pattern is not None

    def _rescan(self) -> None:
        pattern = self._pattern
        if pattern is None:
            self._matches = array("q")
            return
        if self._phase is None:
            search = pattern.search
            base = self.dropped
            found = [base + i for i, text in enumerate(self._texts) if search(text)]
        else:
            found = self._scan(self._phase_view)
        self._matches = array("q", found)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of every match of the search in ``text``."""
        if self._pattern is None:
            return []
        return [m.span() for m in self._pattern.finditer(text) if m.end() > m.start()]
