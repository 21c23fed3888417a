"""Service benchmarks against the real server process (uvicorn), each figure a ratio measured in
the same run:

1. concurrency efficiency: 64 concurrent clients, each request a new session's first turn,
   against a fake watsonx (HTTPS, real SDK path) answering in 500 ms, on every session store,
   and against a fake OpenAI-compatible server (HTTPS, the `openai` SDK) on the memory store;
   divided by the same load on a bare async route that only sleeps the turn's ideal time (1 LLM
   call x 0.5 s). Two figures: 4 rounds from a standing start (all 64 arrive at once, so the
   first burst weighs a lot) and 12 rounds (sustained load).
2. turn overhead: /chat with the instant echo model vs a bare echo route on the same server:
   throughput ratio and added p50/p99 milliseconds.
4. history growth: one session, 50 turns (echo model): mean time of turns 41-50 / turns 1-10.

    python bench/service.py [--clients 64] [--rounds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.server import free_port  # noqa: E402
from tests.fakes.tls import make_certificate  # noqa: E402
from tests.redis_server import redis_cluster, redis_server  # noqa: E402


def start(args: list[str], env: dict[str, str], port: int, scheme: str = "http",
          verify: str | bool = False) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, *args], env={**os.environ, **env}, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{scheme}://127.0.0.1:{port}/health", verify=verify, timeout=0.5)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{args} did not start")


def service_env(port: int, **extra: str) -> dict[str, str]:
    return {"HOST": "127.0.0.1", "PORT": str(port), "LOG_FILE": "", "LOG_LEVEL": "WARNING",
            "TIMEZONE": "Asia/Kolkata", "STT_BACKEND": "local", "TTS_BACKEND": "local", **extra}


_sessions: dict[str, aiohttp.ClientSession] = {}


async def session_for(url: str) -> aiohttp.ClientSession:
    """One aiohttp session per server, its connections kept across measurements (connecting
    inside a measurement would time TCP, not the service). aiohttp, not httpx: the load generator
    shares the 2 cores with what it measures, and httpx costs it about twice the CPU per request;
    one httpx pool under 64 callers also caps at a third of the ideal rate (encode/httpx#3215)."""
    if url not in _sessions:
        _sessions[url] = aiohttp.ClientSession(
            base_url=url, timeout=aiohttp.ClientTimeout(total=120),
            connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=600))
    return _sessions[url]


async def load(url: str, path: str, bodies: list[dict], clients: int) -> tuple[float, list]:
    """Send every body with `clients` callers in flight at once; (seconds, latencies)."""
    queue: asyncio.Queue = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    session = await session_for(url)

    async def worker() -> None:
        while not queue.empty():
            body = queue.get_nowait()
            started = time.perf_counter()
            async with session.post(path, json=body) as response:
                text = await response.read()
                assert response.status == 200, text
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - started, latencies


async def close_sessions() -> None:
    for session in _sessions.values():
        await session.close()
    _sessions.clear()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def efficiency(url: str, tag: str, clients: int, rounds: int,
                     repeats: int) -> tuple[float, float]:
    """(our turns/s, the bare route's), medians of `repeats` alternating runs (drift hits both
    alike); each run starts `clients` callers at once and sends `clients * rounds` requests."""
    total = clients * rounds
    ours_runs, bare_runs = [], []
    for attempt in range(repeats):
        bare, _ = await load(url, "/bench/sleep?seconds=0.5", [{}] * total, clients)
        seconds, _ = await load(url, "/chat", [
            {"query": "cab please", "session_id": f"c{tag}{rounds}-{attempt}-{i}"}
            for i in range(total)], clients)
        ours_runs.append(total / seconds)
        bare_runs.append(total / bare)
    return statistics.median(ours_runs), statistics.median(bare_runs)


async def concurrency(args, stores: dict[str, str]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-"))
    cert, key = make_certificate(folder)
    wx_port, oa_port = free_port(), free_port()
    fakes = [subprocess.Popen([sys.executable, "-m", module, "--port", str(port), "--cert",
                               str(cert), "--key", str(key), "--delay", "0.5"],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for module, port in [("tests.fakes.watsonx", wx_port),
                                  ("tests.fakes.openai_server", oa_port)]]
    time.sleep(2)
    wx_url = f"https://127.0.0.1:{wx_port}"
    backends = {"watsonx": {"LLM_BACKEND": "watsonx", "WX_API_KEY": "bench-key",
                            "WX_URL": wx_url, "WX_PROJECT_ID": "proj-1",
                            "WX_AUTH_URL": f"{wx_url}/identity/token", "WX_VERIFY": str(cert)},
                "openai": {"LLM_BACKEND": "openai", "OPENAI_API_KEY": "bench-key",
                           "OPENAI_BASE_URL": f"https://127.0.0.1:{oa_port}/v1",
                           "OPENAI_MODEL": "test-model", "OPENAI_VERIFY": str(cert)}}
    # Every store on watsonx; the openai backend on the memory store (the client is the same
    # kind of code path: what differs is the SDK).
    runs = [("watsonx", name, store) for name, store in stores.items()]
    if "memory" in stores:
        runs.append(("openai", "memory", stores["memory"]))
    runs = [run for run in runs if run[0] in args.backends]
    # With --without, each store runs once as it is and once per trick switched off, back to
    # back, so the figures with and without a trick come from the same run.
    variants = ["", *args.without]
    print(f"1. concurrency: {args.clients} clients, each request a new session's first turn, "
          "LLM 500 ms per call; turns/s over the bare route's (goal >= 0.9)")
    print(f"   {'backend':8s} {'store':8s} {'without':8s} {'turns/s':>8s} {'bare/s':>8s} "
          f"{'efficiency':>10s}   "
          f"{'sustained':>9s} (first: {args.rounds} rounds from a standing start, median of "
          f"{args.repeats}; sustained: {args.sustained_rounds} rounds, median of 3)")
    try:
        for (backend, name, store), without in ((run, v) for run in runs for v in variants):
            port = free_port()
            env = service_env(port, SESSION_STORE=store, BENCH_WITHOUT=without,
                              **backends[backend])
            server = start(["bench/serve_app.py"], env, port)
            url = f"http://127.0.0.1:{port}"
            try:
                httpx.get(f"{url}/ready", timeout=30)
                await load(url, "/chat", [{"query": "cab please", "session_id": f"w{name}{i}"}
                                          for i in range(args.clients)], args.clients)  # warm-up
                burst = await efficiency(url, name, args.clients, args.rounds, args.repeats)
                sustained = await efficiency(url, f"{name}-s", args.clients,
                                             args.sustained_rounds, 3)
                print(f"   {backend:8s} {name:8s} {without or '-':8s} {burst[0]:8.1f} "
                      f"{burst[1]:8.1f} "
                      f"{burst[0] / burst[1]:10.3f}   {sustained[0] / sustained[1]:9.3f}")
            finally:
                server.terminate()
                server.wait()
    finally:
        for fake in fakes:
            fake.terminate()


async def overhead_and_growth(args) -> None:
    port = free_port()
    server = start(["bench/serve_app.py"], service_env(port, LLM_BACKEND="echo"), port)
    url = f"http://127.0.0.1:{port}"
    try:
        n, clients = args.requests, 16
        chat = [{"query": "I need a cab", "session_id": f"o{i}"} for i in range(n)]
        await load(url, "/chat", chat[:200], clients)
        await load(url, "/bench/echo", chat[:200], clients)
        chat_runs, echo_runs, chat_lat, echo_lat = [], [], [], []
        for attempt in range(args.repeats):  # alternate, so drift hits both alike
            seconds, latencies = await load(url, "/bench/echo", chat, clients)
            echo_runs.append(seconds)
            echo_lat += latencies
            seconds, latencies = await load(url, "/chat", [
                {**b, "session_id": f"{b['session_id']}-{attempt}"} for b in chat], clients)
            chat_runs.append(seconds)
            chat_lat += latencies
        chat_s, echo_s = statistics.median(chat_runs), statistics.median(echo_runs)
        ratio = (n / chat_s) / (n / echo_s)
        print(f"2. turn overhead ({n} requests, {clients} clients, echo model): /chat "
              f"{n / chat_s:.0f}/s vs bare echo {n / echo_s:.0f}/s: ratio {ratio:.2f} "
              "(goal >= 0.5)")
        print(f"   added ms: p50 {1000 * (pct(chat_lat, .5) - pct(echo_lat, .5)):.2f}, "
              f"p99 {1000 * (pct(chat_lat, .99) - pct(echo_lat, .99)):.2f}")
        ratios = []
        for attempt in range(args.repeats):
            times = []
            for i in range(50):
                _, latency = await load(url, "/chat", [{
                    "query": f"turn {i} " + "x" * 80, "session_id": f"growth-{attempt}"}], 1)
                times += latency
            ratios.append(statistics.mean(times[40:]) / statistics.mean(times[:10]))
        print(f"4. history growth: 50 turns in one session: mean of turns 41-50 / 1-10 = "
              f"{statistics.median(ratios):.2f} (median of {args.repeats}; goal <= 1.2)")
    finally:
        server.terminate()
        server.wait()


async def main(args) -> None:
    try:
        if not args.only_concurrency:
            await overhead_and_growth(args)
        with redis_server() as redis_url, redis_cluster() as cluster_url:
            folder = tempfile.mkdtemp(prefix="bench-db-")
            stores = {"memory": "memory", "sqlite": f"sqlite:///{folder}/s.db",
                      "redis": redis_url, "cluster": cluster_url}
            await concurrency(args, {name: url for name, url in stores.items()
                                     if name in args.stores})
    finally:
        await close_sessions()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sustained-rounds", type=int, default=12)
    parser.add_argument("--backends", nargs="*", default=["watsonx", "openai"],
                        help="LLM backends for benchmark 1")
    parser.add_argument("--only-concurrency", action="store_true", help="benchmark 1 alone")
    parser.add_argument("--stores", nargs="*", default=["memory", "sqlite", "redis", "cluster"],
                        help="session stores for benchmark 1 (cluster: a three-master Redis "
                             "Cluster)")
    parser.add_argument("--without", nargs="*", default=[], choices=["batching"],
                        help="benchmark 1 also with each of these speed tricks switched off "
                             "(see bench/serve_app.py)")
    asyncio.run(main(parser.parse_args()))
