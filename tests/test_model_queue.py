"""The queue in front of the embedded model, with a stand-in for llama.cpp's thread: an
abandoned call stops, a queued one whose caller left never starts, and a call that cannot be
served within its deadline is refused at once."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from agent_session.errors import LLMBusy
from agent_session.llm.model_queue import ModelQueue
from agent_session.worker import Worker


def generation(seconds: float, log: list[str], name: str):
    """A fake generation: one 'token' every 10 ms, checking the stop flag after each."""
    def run(stop: threading.Event) -> str:
        log.append(f"{name} started")
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            if stop.is_set():
                log.append(f"{name} stopped")
                return "stopped"
            time.sleep(0.01)
        log.append(f"{name} done")
        return name
    return run


@pytest.fixture
def queue():
    worker = Worker("test-model")
    yield ModelQueue(worker, deadline=1.2)
    worker.close()


async def test_a_cancelled_call_stops_and_the_next_starts_at_once(queue):
    log: list[str] = []
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):
            await queue.run(generation(5, log, "long"))
    started = time.perf_counter()
    assert await queue.run(generation(0.05, log, "short")) == "short"
    assert time.perf_counter() - started < 0.5
    assert log == ["long started", "long stopped", "short started", "short done"]


async def test_a_queued_call_whose_caller_left_never_starts(queue):
    log: list[str] = []
    first = asyncio.create_task(queue.run(generation(0.3, log, "first")))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(queue.run(generation(0.1, log, "second")))
    await asyncio.sleep(0.05)
    second.cancel()
    assert await first == "first"
    await asyncio.sleep(0.2)
    assert "second started" not in log and queue.pending == 0


async def test_calls_that_cannot_be_served_in_time_are_refused_at_once(queue):
    log: list[str] = []
    for name in ("cold", "warm"):  # the first call is not measured; the second sets 0.4 s
        await queue.run(generation(0.4, log, name))
    assert queue.seconds_per_call == pytest.approx(0.4, abs=0.1)
    running = [asyncio.create_task(queue.run(generation(0.4, log, f"q{i}"))) for i in range(2)]
    await asyncio.sleep(0.01)
    started = time.perf_counter()
    with pytest.raises(LLMBusy) as refused:  # 2 ahead x 0.4 s + its own 0.4 s > 0.8 x 1.2 s
        await queue.run(generation(0.4, log, "late"))
    assert time.perf_counter() - started < 0.05
    assert refused.value.status_code == 503 and refused.value.headers == {"Retry-After": "1"}
    assert await asyncio.gather(*running) == ["q0", "q1"]
    assert "late started" not in log


async def test_a_worker_reopened_after_close_never_runs_two_jobs_at_once():
    worker = Worker("reopened")
    running: list[int] = []
    overlap: list[bool] = []

    def job(seconds: float) -> None:
        running.append(1)
        overlap.append(len(running) > 1)
        time.sleep(seconds)
        running.pop()

    first = asyncio.ensure_future(worker.run(job, 0.3))
    await asyncio.sleep(0.05)
    worker.close()  # the job goes on to its end on the closed thread
    await worker.run(job, 0.01)
    await first
    worker.close()
    assert overlap == [False, False]
