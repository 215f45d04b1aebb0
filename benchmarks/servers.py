"""Start the benchmark servers in their own processes, pinned to their own core.

* the fixed-reply server: nginx (Debian's package) answering every request with the converter
  PUT's reply, or :mod:`benchmarks.fixed_app` (raw aiohttp.web + uvloop) when nginx is missing;
* the simulator (:mod:`benchmarks.sim_server`), rate limit off or set.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
from attrs import frozen

from benchmarks.fixed_app import REPLY

__all__ = ["FixedServer", "SimServer", "cores", "fixed_server", "pinned", "sim_server"]

NGINX_CONF = """
worker_processes 1;
error_log {prefix}/error.log error;
pid {prefix}/nginx.pid;
events {{ worker_connections 4096; multi_accept on; }}
http {{
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    client_body_buffer_size 16k;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            default_type application/json;
            return 200 '{reply}';
        }}
    }}
}}
"""


@frozen
class FixedServer:
    url: str
    kind: str


@frozen
class SimServer:
    url: str
    token: str
    targets: list[tuple[str, str]]


def cores() -> tuple[str, str] | None:
    """(server core, client core) when there are two cores to pin to, else None."""
    if shutil.which("taskset") is None or len(os.sched_getaffinity(0)) < 2:
        return None
    first, second = sorted(os.sched_getaffinity(0))[:2]
    return str(first), str(second)


def pinned(argv: list[str], role: str) -> list[str]:
    """``argv`` under ``taskset`` on the server's or the client's core (when there are two)."""
    pair = cores()
    if pair is None:
        return argv
    return ["taskset", "-c", pair[0] if role == "server" else pair[1], *argv]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not listen on port {port} within {timeout}s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def fixed_server(prefer_nginx: bool = True) -> Iterator[FixedServer]:
    """The fixed-reply server on a free loopback port."""
    port = _free_port()
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    with tempfile.TemporaryDirectory(prefix="aiodji-bench-") as prefix:
        if prefer_nginx and nginx:
            conf = Path(prefix) / "nginx.conf"
            conf.write_text(NGINX_CONF.format(prefix=prefix, port=port, reply=REPLY.decode()))
            argv = [nginx, "-p", prefix, "-c", str(conf), "-g", "daemon off;"]
            version = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr
            kind = version.strip().split(": ", 1)[-1] or "nginx"
        else:
            argv = [sys.executable, "-m", "benchmarks.fixed_app", "--port", str(port)]
            kind = "aiohttp.web fixed reply (nginx not installed)"
        proc = subprocess.Popen(pinned(argv, "server"), stdout=subprocess.DEVNULL)
        try:
            _wait_listening(port, proc)
            yield FixedServer(url=f"http://127.0.0.1:{port}", kind=kind)
        finally:
            _stop(proc)


@contextlib.contextmanager
def sim_server(rate_limit: float | None = None, *flags: str) -> Iterator[SimServer]:
    """The simulator in its own process (rate limit off unless given; ``flags`` for
    :mod:`benchmarks.sim_server`)."""
    argv = [sys.executable, "-m", "benchmarks.sim_server", *flags]
    if rate_limit is not None:
        argv += ["--rate-limit", str(rate_limit)]
    proc = subprocess.Popen(pinned(argv, "server"), stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the simulator exited before listening")
        info = orjson.loads(line)
        yield SimServer(
            url=info["url"],
            token=info["token"],
            targets=[(p, c) for p, c in info["targets"]],
        )
    finally:
        _stop(proc)
        if proc.stdout is not None:
            proc.stdout.close()
