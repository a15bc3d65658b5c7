"""Long queries, past `query_turns_after`, run youngest first: one at a time, the others wait stopped
(SIGSTOP), and every one is still answered at the time limit. A real server (one gunicorn web process,
so all its query workers are its children), real runaway queries, the workers' states read from /proc."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import LiveServer, children_of, dfl, free_port, live_server, process_state

from dfl_graph.sparql.activity import Activity
from dfl_graph.sparql.lanes import Lane, Seniority

TIMEOUT = 4.0
LIMITS = {
    "DFL_QUERY_TIMEOUT": str(TIMEOUT),
    "DFL_MAX_CONCURRENT_QUERIES": "3",
    "DFL_MAX_LONG_QUERIES": "3",
    "DFL_LONG_RUNNING_QUERIES": "1",
    "DFL_SLOW_QUERY_AFTER": "0.3",
    "DFL_QUERY_TURNS_AFTER": "0.6",
}
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }} # {}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("long-queries")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data = root / "public.nq"
    data.write_text(
        "".join(f'<http://example.org/{i}> <http://example.org/p> "{i}" <{base}/graph/t> .\n' for i in range(300))
    )
    dfl("--base", base, "restore", str(data), "--public", "--store", str(root / "catalogue"))
    with live_server(root / "catalogue", port, workers=1, env=LIMITS) as running:
        yield running


def _descendants(pid: int) -> list[int]:
    found, frontier = [], [pid]
    while frontier := children_of(set(frontier)):
        found += frontier
    return found


def _state(pid: int) -> str | None:
    stat = process_state(pid)
    return stat[0] if stat else None


def _long_workers(server: LiveServer) -> list[int]:
    """The query workers demoted to SCHED_IDLE, i.e. running a long query."""
    found = []
    for pid in _descendants(server.process.pid):
        try:
            if os.sched_getscheduler(pid) == os.SCHED_IDLE and _state(pid) not in (None, "Z"):
                found.append(pid)
        except OSError:
            continue
    return found


def _runaways(server: LiveServer, count: int, tag: str, stagger: float = 0.0) -> list[concurrent.futures.Future]:
    pool = concurrent.futures.ThreadPoolExecutor(count)
    post = lambda i: requests.post(  # noqa: E731
        server.url + "/sparql", data={"query": RUNAWAY.format(f"{tag} {i}")}, timeout=TIMEOUT + 20
    )
    futures = []
    for i in range(count):
        futures.append(pool.submit(post, i))
        time.sleep(stagger)
    pool.shutdown(wait=False)
    return futures


def test_the_youngest_long_query_runs_the_others_wait_and_all_are_answered(server: LiveServer) -> None:
    started = time.monotonic()
    futures = _runaways(server, 3, "youngest", stagger=0.3)
    # The youngest (admitted at ~0.6 s) is past query_turns_after at ~1.2 s; the others see it within a turn.
    time.sleep(1.6 - (time.monotonic() - started))
    workers: set[int] = set()
    ran: set[int] = set()
    while time.monotonic() - started < TIMEOUT - 0.2:  # before the oldest reaches the time limit
        long = _long_workers(server)
        workers.update(long)
        running = [pid for pid in long if _state(pid) != "T"]
        assert len(running) <= 1, f"{len(running)} long queries ran at once: {running}"
        ran.update(running)
        time.sleep(0.02)
    assert len(workers) == 3, f"expected 3 long queries, saw {sorted(workers)}"
    assert len(ran) == 1, f"the youngest query should have kept running alone, but {sorted(ran)} ran"
    for future in futures:
        response = future.result()
        assert response.status_code == 504, response.text
    assert time.monotonic() - started < TIMEOUT + 0.5 + 2


def test_a_long_query_alone_on_a_quiet_server_is_never_stopped(server: LiveServer) -> None:
    started = time.monotonic()
    (future,) = _runaways(server, 1, "alone")
    time.sleep(0.8)
    seen = []
    while time.monotonic() - started < TIMEOUT - 0.5:
        seen += [_state(pid) for pid in _long_workers(server)]
        time.sleep(0.02)
    assert seen and "T" not in seen, seen
    assert future.result().status_code == 504


def test_stopped_workers_die_with_their_web_process(server: LiveServer) -> None:
    """A worker waiting stopped cannot run a watchdog; the kernel kills it when its parent goes."""
    futures = _runaways(server, 2, "orphans")
    deadline = time.monotonic() + TIMEOUT
    stopped = []
    while not stopped and time.monotonic() < deadline:
        stopped = [pid for pid in _long_workers(server) if _state(pid) == "T"]
        time.sleep(0.02)
    assert stopped, "no long query was waiting stopped"
    web_processes = children_of({server.process.pid})
    for web in web_processes:
        os.kill(web, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while any(_state(pid) not in (None, "Z") for pid in stopped) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_state(pid) in (None, "Z") for pid in stopped), "a stopped query worker outlived its web process"
    for future in futures:
        with pytest.raises(requests.ConnectionError):
            future.result()


def test_lane_sees_slots_held_by_other_holders(tmp_path: Path) -> None:
    lane = Lane(tmp_path, "test", 3)
    assert not any(lane.is_held(i) for i in range(3))
    first, second = lane.try_acquire(), lane.try_acquire()
    assert first is not None and second is not None
    assert sum(lane.is_held(i) for i in range(3)) == 2
    first.release()
    assert not lane.is_held(first.index) and lane.is_held(second.index)
    held = [lane.try_acquire(), lane.try_acquire()]  # the probes took no slot: the two free ones are free
    assert all(held) and lane.try_acquire() is None


def test_activity_is_shared_through_its_file(tmp_path: Path) -> None:
    writer, reader = Activity(tmp_path), Activity(tmp_path)
    writer.mark()
    assert reader.quiet_for() < 1.0
    time.sleep(0.2)
    assert reader.quiet_for() >= 0.2


def test_seniority_counts_younger_holders_and_ignores_released_slots(tmp_path: Path) -> None:
    lane = Lane(tmp_path, "long", 3)
    old, young = lane.try_acquire(), lane.try_acquire()
    assert old is not None and young is not None
    table, other_process_view = Seniority(lane), Seniority(lane)
    table.record(old, 1_000)
    table.record(young, 2_000)
    assert other_process_view.younger(old, 1_000) == 1
    assert other_process_view.younger(young, 2_000) == 0
    young.release()  # its holder died without clearing its entry
    assert other_process_view.younger(old, 1_000) == 0
