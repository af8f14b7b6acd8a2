"""PagedTaskList against the real simulator: paging from both ends, merging, filters (server
and local), live inserts and updates, and no page fetched twice."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infdash.api import Filter, InferenceClient, Sort, Task, TaskStatus, ValidationError
from infdash.api.models.common import CursorPage
from infdash.api.retry import NO_RETRY
from infdash.sim import SimConfig, SimServer
from infdash.ui.tasklist.model import ModelChange, PagedTaskList, SortKey, fetch_rows
from infdash.ui.tasklist.query import TaskQuery, parse_query
from infdash.ui.tasklist.row import TaskRow

HISTORY = 2500


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(seed=7, manual_clock=True, history_size=HISTORY)


@pytest.fixture
async def client(sim: SimServer) -> AsyncIterator[InferenceClient]:
    async with InferenceClient(sim.base_url, sim.api_key, retry=NO_RETRY) as made:
        yield made


class Counting:
    """A fetch that records every request's arguments, then asks the real client the way the
    task list does (:func:`fetch_rows`: rows straight from the DTOs)."""

    def __init__(self, client: InferenceClient, reject_app: bool = False) -> None:
        self.client = client
        self.reject_app = reject_app
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, **args: Any) -> CursorPage[TaskRow]:
        self.calls.append(args)
        filters: list[Filter] = list(args.get("filters") or [])
        if self.reject_app and any(f.field == "app" for f in filters):
            raise ValidationError("unknown filter field 'app'", status=400, code="invalid_filter")
        return await fetch_rows(self.client, **args)

    def pages(self) -> list[tuple[Any, ...]]:
        """One key per distinct page asked for."""
        return [
            (a.get("cursor"), a.get("direction"), tuple(s.dir for s in a["sort"]))
            for a in self.calls
        ]


def sim_now(sim: SimServer) -> datetime:
    return datetime.fromtimestamp(sim.call(lambda w: w.now()), UTC)


def make_model(sim: SimServer, fetch: Counting, page_size: int = 200) -> PagedTaskList:
    return PagedTaskList(fetch, page_size=page_size, now=lambda: sim_now(sim))


async def all_ids(client: InferenceClient, filters: list[Filter] | None = None) -> list[str]:
    """The whole list in the model's order (created_at desc, then id desc), in one request."""
    page = await client.tasks.list(
        limit=-1,
        filters=filters or [],
        sort=[Sort.desc("created_at"), Sort.desc("id")],
    )
    assert not page.has_next
    return [task.id for task in page.items]


def loaded(model: PagedTaskList) -> dict[int, str]:
    rows = {i: model.row_at(i) for i in range(len(model))}
    return {i: row.id for i, row in rows.items() if row is not None}


async def test_first_page_and_total(sim: SimServer, client: InferenceClient) -> None:
    fetch = Counting(client)
    model = make_model(sim, fetch)
    assert len(model) == 0
    assert model.row_at(0) is None
    await model.reset(TaskQuery(), SortKey())
    full = await all_ids(client)
    assert len(model) == len(full) >= HISTORY
    assert model.total_known
    assert not model.loading
    assert model.local_keys == frozenset()
    assert loaded(model) == dict(enumerate(full[:200]))
    assert model.index_of(full[10]) == 10
    assert model.index_of(full[500]) is None
    assert model.ids_between(5, 8) == full[5:8]
    assert len(fetch.calls) == 1
    assert fetch.calls[0]["limit"] == 200
    assert not await model.ensure(0, 150)  # already loaded: no request
    assert len(fetch.calls) == 1


async def test_jump_to_the_end_loads_a_tail_through_the_reversed_sort(
    sim: SimServer, client: InferenceClient
) -> None:
    fetch = Counting(client)
    model = make_model(sim, fetch)
    await model.reset(TaskQuery(), SortKey())
    full = await all_ids(client)
    total = len(full)
    assert await model.ensure(total - 40, total)
    assert len(fetch.calls) == 2
    assert [s.dir for s in fetch.calls[1]["sort"]] == ["asc", "asc"]
    assert "cursor" not in fetch.calls[1]
    assert len(model) == total
    assert loaded(model) == {
        **dict(enumerate(full[:200])),
        **{i: full[i] for i in range(total - 200, total)},
    }
    assert model.row_at(total // 2) is None
    assert model.index_of(full[-1]) == total - 1
    assert model.ids_between(total - 203, total - 197) == full[total - 200 : total - 197]
    # scrolling up from the end extends the tail with the reversed query's cursor
    assert await model.ensure(total - 450, total - 400)
    assert fetch.calls[-1]["cursor"]
    assert all(model.row_at(i) is not None for i in range(total - 450, total))
    assert loaded(model) == {i: full[i] for i in loaded(model)}


async def test_ensure_in_the_middle_and_merge(sim: SimServer, client: InferenceClient) -> None:
    fetch = Counting(client)
    model = make_model(sim, fetch, page_size=250)
    await model.reset(TaskQuery(), SortKey())
    full = await all_ids(client)
    total = len(full)
    middle = total // 2
    assert await model.ensure(middle, middle + 30)
    assert all(model.row_at(i) is not None for i in range(middle, middle + 30))
    assert all(len(call.get("sort", [])) == 2 for call in fetch.calls)
    assert loaded(model) == {i: full[i] for i in loaded(model)}
    await model.ensure(total - 10, total)
    await model.ensure(0, total)  # close every gap: head and tail meet and merge
    assert len(model) == total
    assert [row.id for row in model.rows()] == full
    assert len({row.id for row in model.rows()}) == total
    assert model.index_of(full[-1]) == total - 1
    assert model.index_of(full[middle]) == middle
    assert not await model.ensure(0, total)


async def test_filters_go_to_the_server(sim: SimServer, client: InferenceClient) -> None:
    fetch = Counting(client)
    model = make_model(sim, fetch)
    query = parse_query("status:completed app:infsh/echo")
    await model.reset(query, SortKey())
    expected = await all_ids(
        client, [Filter("status", "in", ["completed"]), Filter("app", "contains", "infsh/echo")]
    )
    assert 0 < len(expected) < HISTORY
    assert len(model) == len(expected)
    assert model.local_keys == frozenset()
    await model.ensure(0, len(model))
    assert [row.id for row in model.rows()] == expected
    now = sim_now(sim)
    assert all(query.matches(row, now) for row in model.rows())
    assert {f.field for f in fetch.calls[0]["filters"]} == {"status", "app"}


async def test_a_filter_the_server_rejects_is_applied_locally(
    sim: SimServer, client: InferenceClient
) -> None:
    fetch = Counting(client, reject_app=True)
    model = make_model(sim, fetch)
    query = parse_query("status:failed app:echo")
    await model.reset(query, SortKey())
    assert model.local_keys == frozenset({"app"})
    assert not model.total_known
    expected = await all_ids(
        client, [Filter("status", "in", ["failed"]), Filter("app", "contains", "echo")]
    )
    first = model.rows()
    assert [row.id for row in first] == expected[: len(first)]
    assert len(model) == len(first) + 1  # a placeholder while more pages exist
    assert model.row_at(len(first)) is None
    while await model.ensure(0, len(model)):
        pass
    assert [row.id for row in model.rows()] == expected
    assert len(model) == len(expected)
    assert model.total_known
    assert all(query.matches(row, sim_now(sim)) for row in model.rows())
    rejected = [c for c in fetch.calls if any(f.field == "app" for f in c.get("filters", []))]
    assert len(rejected) == 1  # asked once, then never again


async def test_several_apps_filter_locally(sim: SimServer, client: InferenceClient) -> None:
    fetch = Counting(client)
    model = make_model(sim, fetch)
    await model.reset(parse_query("app:echo,slow status:failed"), SortKey())
    assert model.local_keys == frozenset({"app"})
    while await model.ensure(0, len(model)):
        pass
    rows = model.rows()
    assert rows
    assert all(("echo" in r.app or "slow" in r.app) and r.status is TaskStatus.FAILED for r in rows)


async def test_apply_inserts_matching_new_tasks_and_updates_in_place(
    sim: SimServer, client: InferenceClient
) -> None:
    model = make_model(sim, Counting(client))
    await model.reset(parse_query("app:echo"), SortKey())
    total = len(model)
    before = model.row_at(0)
    new = await client.tasks.run("infsh/echo", {"text": "hi"})
    other = await client.tasks.run("infsh/slow", {})
    change = model.apply([await client.tasks.get(new.id), await client.tasks.get(other.id)])
    assert change == ModelChange(frozenset(), (new.id,))
    assert change.structural
    assert model.index_of(new.id) == 0
    assert model.row_at(1) == before
    assert before is not None
    assert model.index_of(before.id) == 1
    assert model.index_of(other.id) is None
    assert len(model) == total + 1
    # the task moves on: the row updates where it is
    for _ in range(200):
        await asyncio.to_thread(sim.advance, 1.0)
        if (await client.tasks.status(new.id)).status.is_terminal:
            break
    done = await client.tasks.get(new.id)
    assert model.set_cost(new.id, 1234)
    change = model.apply([done])
    assert change == ModelChange(frozenset({new.id}), ())
    assert not change.structural
    row = model.row_at(0)
    assert row is not None
    assert row.id == new.id
    assert row.status is TaskStatus.COMPLETED
    assert row.cost_microcents == 1234  # kept across the update
    assert model.apply([done]) == ModelChange()


async def test_rows_that_stop_matching_stay_until_reset(
    sim: SimServer, client: InferenceClient
) -> None:
    model = make_model(sim, Counting(client))
    await model.reset(parse_query("status:active"), SortKey())
    new = await client.tasks.run("infsh/echo", {"text": "hi"})
    assert model.apply([await client.tasks.get(new.id)]).inserted == (new.id,)
    for _ in range(200):
        await asyncio.to_thread(sim.advance, 1.0)
        if (await client.tasks.status(new.id)).status.is_terminal:
            break
    change = model.apply([await client.tasks.get(new.id)])
    assert change.updated == frozenset({new.id})
    assert model.index_of(new.id) == 0
    await model.reset(model.query, model.sort)
    assert model.index_of(new.id) is None


async def test_apply_skips_what_does_not_match_or_sorts_below_the_head(
    sim: SimServer, client: InferenceClient
) -> None:
    model = make_model(sim, Counting(client))
    await model.reset(parse_query("status:failed"), SortKey())
    new = await client.tasks.run("infsh/echo", {"text": "hi"})
    assert model.apply([await client.tasks.get(new.id)]) == ModelChange()
    # a matching but old task (below the loaded head) is not inserted either
    old_sort = make_model(sim, Counting(client))
    await old_sort.reset(TaskQuery(), SortKey(descending=False))  # oldest first
    assert old_sort.apply([await client.tasks.get(new.id)]) == ModelChange()


async def test_refresh_head_inserts_tasks_created_since(
    sim: SimServer, client: InferenceClient
) -> None:
    fetch = Counting(client)
    model = make_model(sim, fetch)
    await model.reset(parse_query("app:echo"), SortKey())
    total = len(model)
    top = model.row_at(0)
    made = [(await client.tasks.run("infsh/echo", {"text": str(i)})).id for i in range(3)]
    await client.tasks.run("infsh/slow", {})
    change = await model.refresh_head(limit=20)
    assert set(change.inserted) == set(made)
    assert fetch.calls[-1]["limit"] == 20
    assert len(model) == total + 3
    assert {model.index_of(task_id) for task_id in made} == {0, 1, 2}
    assert model.row_at(3) == top
    full = await all_ids(client, [Filter("app", "contains", "echo")])
    assert model.ids_between(0, 200) == full[:200]
    again = await model.refresh_head(limit=20)
    assert again == ModelChange()


async def test_concurrent_ensures_fetch_each_page_once(
    sim: SimServer, client: InferenceClient
) -> None:
    fetch = Counting(client)
    model = make_model(sim, fetch, page_size=100)
    await model.reset(TaskQuery(), SortKey())
    total = len(model)
    results = await asyncio.gather(
        model.ensure(0, 450),
        model.ensure(100, 450),
        model.ensure(50, 300),
        model.ensure(total - 20, total),
        model.ensure(total - 20, total),
    )
    assert list(results) == [True, False, False, True, False]
    assert len(fetch.pages()) == len(set(fetch.pages()))
    assert [call["limit"] for call in fetch.calls] == [100, 350, 100]  # reset, head, tail
    assert all(model.row_at(i) is not None for i in range(450))
    assert all(model.row_at(i) is not None for i in range(total - 20, total))


async def test_reset_drops_a_page_in_flight(sim: SimServer, client: InferenceClient) -> None:
    model = make_model(sim, Counting(client))
    await model.reset(TaskQuery(), SortKey())
    total = len(model)
    pending = asyncio.ensure_future(model.ensure(total - 10, total))
    await asyncio.sleep(0)
    await model.reset(parse_query("status:failed"), SortKey())
    assert not await pending
    assert all(
        row is None or row.status is TaskStatus.FAILED
        for row in (model.row_at(i) for i in range(len(model)))
    )


async def test_local_sort_of_loaded_rows(sim: SimServer, client: InferenceClient) -> None:
    model = make_model(sim, Counting(client))
    await model.reset(parse_query("app:echo"), SortKey())
    await model.ensure(0, len(model))
    model.sort_locally(lambda r: r.engine or None, descending=False)
    engines = [row.engine for row in model.rows()]
    named = [e for e in engines if e]
    assert named == sorted(named)
    assert engines[: len(named)] == named  # rows without an engine last
    first = model.rows()[0]
    assert model.index_of(first.id) == 0
    assert model.locally_sorted
    with pytest.raises(ValueError, match="sort_locally"):
        await model.reset(TaskQuery(), SortKey("duration"))


async def test_tail_in_another_sort(sim: SimServer, client: InferenceClient) -> None:
    fetch = Counting(client)
    model = make_model(sim, fetch, page_size=150)
    sort = SortKey("status", descending=False)
    await model.reset(TaskQuery(), sort)
    page = await client.tasks.list(limit=-1, sort=[Sort.asc("status"), Sort.asc("id")])
    full = [task.id for task in page.items]
    total = len(full)
    await model.ensure(total - 10, total)
    assert [s.dir for s in fetch.calls[-1]["sort"]] == ["desc", "desc"]
    assert loaded(model) == {i: full[i] for i in loaded(model)}
    assert model.row_at(total - 150) is not None
    await model.ensure(0, total)
    assert [row.id for row in model.rows()] == full


async def test_engine_filter_on_the_server_when_names_resolve(
    sim: SimServer, client: InferenceClient
) -> None:
    engines = (await client.engines.list(limit=50)).items
    ids = {engine.name: engine.id for engine in engines}
    assert "rig-a" in ids
    query = parse_query("engine:rig-a")
    served = PagedTaskList(Counting(client), now=lambda: sim_now(sim), engine_ids=lambda: ids)
    local = make_model(sim, Counting(client))
    await served.reset(query, SortKey())
    await local.reset(query, SortKey())
    assert served.local_keys == frozenset()
    assert local.local_keys == frozenset({"engine"})
    await served.ensure(0, len(served))
    while await local.ensure(0, len(local)):
        pass
    assert served.rows()
    assert [row.id for row in served.rows()] == [row.id for row in local.rows()]


async def test_since_and_search(sim: SimServer, client: InferenceClient) -> None:
    fetch = Counting(client)
    model = make_model(sim, fetch)
    query = parse_query("since:6h slow")
    await model.reset(query, SortKey())
    call = fetch.calls[0]
    assert call["search"] == "slow"
    assert [f.field for f in call["filters"]] == ["created_at"]
    await model.ensure(0, len(model))
    rows = model.rows()
    assert rows
    assert len(rows) < HISTORY
    now = sim_now(sim)
    assert all(query.matches(row, now) for row in rows)


async def test_without_a_server_total(sim: SimServer, client: InferenceClient) -> None:
    real = Counting(client)

    async def no_total(**args: Any) -> CursorPage[TaskRow]:
        return replace(await real(**args), total_items=None)

    model = PagedTaskList(no_total, page_size=400, now=lambda: sim_now(sim))
    await model.reset(parse_query("status:done"), SortKey())
    assert not model.total_known
    assert len(model) == 401
    assert await model.ensure(0, 10**9)  # one page more, not everything
    assert len(real.calls) == 2
    assert len(model) == 801
    while await model.ensure(0, 10**9):
        pass
    expected = await all_ids(
        client, [Filter("status", "in", ["completed", "failed", "cancelled", "rejected"])]
    )
    assert [row.id for row in model.rows()] == expected
    assert len(model) == len(expected)
    assert model.total_known


async def test_an_unrelated_400_is_raised(sim: SimServer) -> None:
    async def broken(**args: Any) -> CursorPage[TaskRow]:
        raise ValidationError("invalid cursor", status=400, code="invalid_request")

    model = PagedTaskList(broken, now=lambda: sim_now(sim))
    with pytest.raises(ValidationError):
        await model.reset(parse_query("status:failed app:echo"), SortKey())
    assert model.local_keys == frozenset()
    assert not model.loading


async def test_refresh_reads_on_while_every_row_is_new(
    sim: SimServer, client: InferenceClient
) -> None:
    fetch = Counting(client)
    model = make_model(sim, fetch)
    await model.reset(TaskQuery(), SortKey())
    total = len(model)
    made = {(await client.tasks.run("infsh/echo", {"text": str(i)})).id for i in range(25)}
    change = await model.refresh_head(limit=10)
    assert set(change.inserted) == made
    assert len(fetch.calls) == 4  # reset, then three pages of ten
    assert len(model) == total + 25
    full = await all_ids(client)
    assert model.ids_between(0, 225) == full[:225]


def synthetic(count: int, start: int = 0) -> list[Task]:
    """Tasks one second apart (for index bookkeeping, where the simulator adds nothing)."""
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        Task(
            id=f"task_{i:06d}",
            created_at=t0 + timedelta(seconds=2 * i),
            status=TaskStatus.COMPLETED,
            app_name="infsh/echo",
            app_version="1.0.0",
        )
        for i in range(start, start + count)
    ]


class MemoryList:
    """An in-memory list endpoint (created_at order, offset cursors): a fetch seam."""

    def __init__(self, tasks: list[Task]) -> None:
        self.desc = sorted(tasks, key=lambda t: (t.created_at, t.id), reverse=True)
        self.calls = 0

    async def __call__(self, **args: Any) -> CursorPage[TaskRow]:
        self.calls += 1
        order = self.desc if args["sort"][0].dir == "desc" else self.desc[::-1]
        start = int(args.get("cursor") or 0)
        end = start + int(args["limit"])
        return CursorPage(
            items=tuple(TaskRow.from_task(task) for task in order[start:end]),
            next_cursor=str(end),
            has_next=end < len(order),
            total_items=len(order),
        )


async def test_index_stays_right_through_inserts_anywhere() -> None:
    fetch = MemoryList(synthetic(3000))
    model = PagedTaskList(fetch, page_size=500)
    await model.reset(TaskQuery(), SortKey())
    await model.ensure(2990, 3000)  # a tail as well
    rng = random.Random(7)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(300):
        if n % 3:  # newest: at the top
            moment = t0 + timedelta(days=1, seconds=n)
        else:  # between two loaded head rows
            moment = t0 + timedelta(seconds=2 * (3000 - rng.randrange(400)) + 1)
        task = Task(id=f"task_new{n:04d}", created_at=moment, status=TaskStatus.RUNNING)
        assert model.apply([task]).inserted == (task.id,)
    assert len(model) == 3300
    head = [model.row_at(i) for i in range(len(model))]
    ids = [row.id for row in head if row is not None]
    assert all(model.index_of(task_id) == i for i, task_id in enumerate(ids[:800]))
    assert model.index_of("task_000000") == 3299
    stamps = [row.created_at for row in head if row is not None and row.created_at]
    assert stamps[:800] == sorted(stamps[:800], reverse=True)
    await model.ensure(0, len(model))
    assert len(model.rows()) == 3300
    assert len({row.id for row in model.rows()}) == 3300
    assert all(model.index_of(row.id) == i for i, row in enumerate(model.rows()))


async def test_a_row_below_the_loaded_head_waits_for_its_page() -> None:
    fetch = MemoryList(synthetic(1000))
    model = PagedTaskList(fetch, page_size=100)
    await model.reset(TaskQuery(), SortKey())
    old = Task(id="task_old", created_at=datetime(2025, 1, 1, tzinfo=UTC))
    assert model.apply([old]) == ModelChange()
    assert model.index_of("task_old") is None
    assert len(model) == 1000


async def test_before_reset_and_while_loading() -> None:
    fetch = MemoryList(synthetic(10))
    model = PagedTaskList(fetch)
    assert len(model) == 0
    assert not await model.ensure(0, 10)
    assert await model.refresh_head() == ModelChange()
    assert model.apply(synthetic(1)) == ModelChange()
    assert fetch.calls == 0
    await model.reset(TaskQuery(), SortKey())
    assert len(model) == 10
    assert model.total_known
    assert not model.set_cost("nope", 5)
    assert model.set_cost("task_000003", 5)
    assert not model.set_cost("task_000003", 5)


def test_the_core_does_not_import_textual() -> None:
    code = (
        "import sys, infdash.ui.tasklist.model, infdash.ui.tasklist.query; "
        "assert 'textual' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
