"""A running ``aiodji controller run`` process for the controller tests: stderr drained as it
comes (a full pipe would block the controller's logging), stopped by SIGTERM (killed after
10 s), plus polling helpers. Bounded waits only; nothing asserts a duration."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

import aiohttp

__all__ = ["Running", "get", "until"]


class Running:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._drain = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, *argv: str, env: dict[str, str]) -> Running:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        async for line in self.proc.stderr:
            self.lines.append(line.decode(errors="replace"))

    @property
    def running(self) -> bool:
        return self.proc.returncode is None

    @property
    def err(self) -> str:
        return "".join(self.lines)

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    async def metrics_base(self) -> str:
        """``http://host:port`` from the ``metrics on …`` line of stdout."""
        assert self.proc.stdout is not None
        line = (await asyncio.wait_for(self.proc.stdout.readline(), 10)).decode()
        return line.split("metrics on ", 1)[1].strip().removesuffix("/metrics")

    async def wait(self, seconds: float = 30.0) -> tuple[int, str]:
        """Until it exits by itself: the exit code and stderr."""
        try:
            await asyncio.wait_for(self.proc.wait(), seconds)
        finally:
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
        await self._drain
        assert self.proc.returncode is not None
        return self.proc.returncode, self.err

    async def stop(self) -> tuple[int, str]:
        """SIGTERM, then the exit code and stderr."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await self.wait(10)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)


async def until(check: Callable[[], Awaitable[bool] | bool], seconds: float = 15.0) -> bool:
    for _ in range(int(seconds / 0.05)):
        result = check()
        if await result if not isinstance(result, bool) else result:
            return True
        await asyncio.sleep(0.05)
    return False


async def get(url: str) -> tuple[int, str]:
    """Status and body (0, "" when nothing answers)."""
    try:
        async with aiohttp.ClientSession() as s, s.get(url) as resp:
            return resp.status, await resp.text()
    except aiohttp.ClientError:
        return 0, ""
