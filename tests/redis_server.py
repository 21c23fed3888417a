"""A real `redis-server` for the tests, on a free loopback port, started and stopped by them.
Without the binary the Redis tests skip, unless REQUIRE_REDIS=1 (CI), which fails them."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from .fakes.server import free_port


def redis_binary() -> str | None:
    found = shutil.which("redis-server")
    if found is None and os.environ.get("REQUIRE_REDIS") == "1":
        pytest.fail("REQUIRE_REDIS=1 but redis-server is not installed "
                    "(apt-get install -y redis-server).")
    return found


@contextmanager
def redis_server() -> Iterator[str]:
    binary = redis_binary()
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    folder = tempfile.mkdtemp(prefix="redis-test-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", folder, "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def _start_node(binary: str, port: int, folder: str, *extra: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", folder, "--protected-mode", "yes", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.05)


def _cluster_ports(count: int) -> list[int]:
    """Free ports below 55535 whose cluster bus port (+10000) is free as well."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port >= 55535 or port in ports:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        ports.append(port)
    return ports


@contextmanager
def redis_cluster(masters: int = 3) -> Iterator[str]:
    """A real Redis Cluster of `masters` masters (no replicas): its `redis+cluster://` URL."""
    binary = redis_binary()
    cli = shutil.which("redis-cli")
    if binary is None or cli is None:
        pytest.skip("redis-server / redis-cli are not installed")
    folder = tempfile.mkdtemp(prefix="redis-cluster-test-")
    ports = _cluster_ports(masters)
    processes = []
    try:
        for port in ports:
            node_dir = os.path.join(folder, str(port))
            os.makedirs(node_dir)
            processes.append(_start_node(binary, port, node_dir, "--cluster-enabled", "yes",
                                         "--cluster-config-file", "nodes.conf"))
        subprocess.run([cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports),
                        "--cluster-replicas", "0", "--cluster-yes"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        deadline = time.monotonic() + 20
        while True:  # every node must agree that all slots are served
            infos = [subprocess.run([cli, "-p", str(port), "cluster", "info"],
                                    capture_output=True, text=True, timeout=10).stdout
                     for port in ports]
            info = "\n".join(infos)
            if all("cluster_state:ok" in node for node in infos):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Redis Cluster did not come up: {info}")
            time.sleep(0.1)
        yield "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in ports)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


async def flush(url: str) -> None:
    """Empty the database of `url`, or every master of a `redis+cluster://` URL."""
    import redis.asyncio as aioredis
    from redis.asyncio.cluster import ClusterNode

    if url.startswith("redis+cluster://"):
        nodes = [ClusterNode(host, int(port)) for host, port in
                 (address.rsplit(":", 1) for address in url.split("://", 1)[1].split(","))]
        client = aioredis.RedisCluster(startup_nodes=nodes)
        await client.flushall(target_nodes=aioredis.RedisCluster.PRIMARIES)
    else:
        client = aioredis.Redis.from_url(url)
        await client.flushdb()
    await client.aclose()
