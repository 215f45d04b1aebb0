"""The "still waiting" note: a server that accepts and never answers is not left silent."""

from __future__ import annotations

import asyncio
import time

import aiodji
from aiodji.config import Timeouts

from .printing import stderr

__all__ = ["PATIENCE", "STILL_WAITING_AFTER", "Patience"]

# A server that accepts and never answers leaves a command silent for attempts × read timeout
# (3 × 30 s): after this long without an answer the operator is told it is still waiting.
STILL_WAITING_AFTER = 5.0


class Patience:
    """Tracks the attempts on the wire (from the Client's hooks) to say "still waiting" once."""

    def __init__(self) -> None:
        self.pending: dict[str, float] = {}  # request id → when its current attempt started
        self.said = False
        self.hooks = aiodji.Hooks(
            on_request=lambda e: self.pending.__setitem__(e.request_id, time.monotonic()),
            on_retry=lambda e: self.pending.pop(e.request_id, None),
            on_response=lambda e: self.pending.pop(e.request_id, None),
        )

    def silent_for(self, now: float) -> float:
        """How long the oldest attempt on the wire has had no answer (0: none waiting)."""
        return max((now - t for t in self.pending.values()), default=0.0)

    async def watch(self, *, every: float = 0.5) -> None:
        while not self.said:
            await asyncio.sleep(every)
            waited = self.silent_for(time.monotonic())
            if waited >= STILL_WAITING_AFTER:
                self.said = True
                attempts = aiodji.RetryPolicy().max_retries + 1
                stderr.print(
                    f"still waiting: the server has not answered for {waited:.0f} s (each "
                    f"attempt waits up to {Timeouts().read:g} s for a reply, {attempts} "
                    "attempts; Ctrl-C stops)",
                    style="yellow",
                )


PATIENCE = Patience()
