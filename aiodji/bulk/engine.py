"""The generic bulk engine: a fixed set of workers over a lazy iterable, one final result per item.

``run_bulk(items, fn, concurrency=32)`` returns a :class:`BulkRun`, an async iterator of
:class:`ItemResult` (``succeeded`` / ``failed`` / ``not_attempted`` / ``unknown``) with a live
:class:`BulkReport` in ``.report``. Never one task per item: one feeder and ``concurrency``
workers share a window of at most ``window`` items between the source and the consumer
(queued + in flight + not yet consumed), so memory stays flat for any number of items.

Stopping, and the state each item ends in:

- ``max_failures`` exceeded, or :meth:`BulkRun.stop` (the CLI's first Ctrl-C): no new item is
  started; in-flight items finish normally; every remaining item is ``not_attempted``.
- ``timeout`` (a deadline for the whole run): in-flight calls are cancelled and end ``unknown``
  (the server may or may not have applied them), the rest ``not_attempted``; the stream ends.
- Cancellation of the consuming task (task cancel, ``asyncio.timeout``, a second Ctrl-C): the
  same as a deadline, then the CancelledError propagates. These last results cannot be yielded;
  they are counted in ``.report`` and passed to the ``progress`` callback (a journal's hook).

Items of a sync source are all accounted for; an async source interrupted by cancellation is
not read further (reading it may mean more API calls), so only items already taken count.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Sized,
)
from typing import Any, Generic, TypedDict, TypeVar, Unpack

import attrs

from aiodji.errors import APIError, DJIError, InvalidArgumentError
from aiodji.transport import RAW_SINK, RawResponse

__all__ = [
    "DEFAULT_CONCURRENCY",
    "BulkError",
    "BulkOptions",
    "BulkReport",
    "BulkRun",
    "ItemResult",
    "ItemState",
    "run_bulk",
]

T = TypeVar("T")
R = TypeVar("R")

# Items worked on at once unless told otherwise (the CLI's --concurrency, the fleet, the demo).
DEFAULT_CONCURRENCY = 32

# A fraction budget with an unknown total is judged only after this many finished items,
# so that one early failure does not stop a 10,000-item run.
MIN_SAMPLE_FOR_FRACTION = 20


class ItemState(enum.StrEnum):
    """The final state of one item."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NOT_ATTEMPTED = "not_attempted"  # never started: surely not applied
    UNKNOWN = "unknown"  # interrupted in flight: the server may or may not have applied it


@attrs.frozen
class ItemResult(Generic[T, R]):
    """One item's outcome. ``index`` is its position in the input; ``attempts`` the number of
    HTTP attempts the Client made for it (0 when it never reached the network)."""

    item: T
    state: ItemState
    value: R | None = None
    error: BaseException | None = None
    attempts: int = 0
    index: int = -1

    @property
    def ok(self) -> bool:
        return self.state is ItemState.SUCCEEDED


@attrs.define
class BulkReport:
    """Counts per state, the failed results, timing. Live while the run goes on."""

    total: int | None = None  # known up front when the source has a len()
    succeeded: int = 0
    failed: int = 0
    not_attempted: int = 0
    unknown: int = 0
    failures: list[ItemResult[Any, Any]] = attrs.field(factory=list, repr=False)
    seconds: float = 0.0
    stopped: str | None = None  # None, "max_failures", "stopped", "deadline", "cancelled", "error"

    @property
    def finished(self) -> int:
        """Items that ran to an answer (succeeded or failed)."""
        return self.succeeded + self.failed

    @property
    def accounted(self) -> int:
        """Items in a final state so far."""
        return self.succeeded + self.failed + self.not_attempted + self.unknown

    @property
    def rate(self) -> float:
        """Finished items per second."""
        return self.finished / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        """True when every item succeeded."""
        return self.succeeded == self.accounted

    @property
    def counts(self) -> dict[str, int]:
        return {state.value: getattr(self, state.value) for state in ItemState}

    def add(self, result: ItemResult[Any, Any]) -> None:
        state = result.state  # once per item: plain branches, no getattr/setattr by name
        if state is ItemState.SUCCEEDED:
            self.succeeded += 1
        elif state is ItemState.FAILED:
            self.failed += 1
            self.failures.append(result)
        elif state is ItemState.NOT_ATTEMPTED:
            self.not_attempted += 1
        else:
            self.unknown += 1

    def summary(self) -> str:
        return (
            f"{self.accounted} items: {self.succeeded} succeeded, {self.failed} failed, "
            f"{self.not_attempted} not attempted, {self.unknown} unknown in "
            f"{self.seconds:.2f} s ({self.rate:.0f} items/s)"
        )


class BulkError(DJIError):
    """``raise_on_error=True`` and some item failed: raised once in-flight items finished."""

    def __init__(self, report: BulkReport) -> None:
        first = report.failures[0].error if report.failures else None
        super().__init__(f"bulk run failed: {report.summary()}; first error: {first}")
        self.report = report


ProgressCallback = Callable[[ItemResult[Any, Any]], object]


class BulkOptions(TypedDict, total=False):
    """The options of every bulk job (:func:`run_bulk`, ``dji.bulk.*``), defined once."""

    concurrency: int
    ordered: bool
    max_failures: int | float | None
    raise_on_error: bool
    progress: ProgressCallback | None
    timeout: float | None
    window: int | None


class _Marker(enum.Enum):
    END = "end"  # workers: no more work / consumer: every worker is done
    DEADLINE = "deadline"


def _check_budget(max_failures: int | float | None) -> None:
    if max_failures is None:
        return
    if isinstance(max_failures, bool) or not isinstance(max_failures, int | float):
        raise InvalidArgumentError(
            f"max_failures must be a count or a fraction, not {max_failures!r}"
        )
    if max_failures < 0 or (isinstance(max_failures, float) and max_failures > 1):
        raise InvalidArgumentError(
            f"max_failures must be a count >= 0 or a fraction in [0, 1], got {max_failures!r}"
        )


def _attempts_made(sink: list[RawResponse], error: BaseException | None) -> int:
    """HTTP attempts for one item: its answered calls, plus the failing call's attempts."""
    made = 0
    for raw in sink:  # a RawResponse per answered call
        made += raw.attempts
    if isinstance(error, APIError):
        made += error.attempts
    return made


class BulkRun(Generic[T, R]):
    """A running (or ready) bulk job: ``async for result in run`` or ``report = await run.run()``.

    Use it once. Breaking out of ``async for`` early leaves work running until :meth:`aclose`
    (or ``async with run:``), which cancels in-flight items (``unknown``).
    """

    def __init__(
        self,
        items: Iterable[T] | AsyncIterable[T],
        fn: Callable[[T], Awaitable[R]],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        ordered: bool = False,
        max_failures: int | float | None = None,
        raise_on_error: bool = False,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
        window: int | None = None,
    ) -> None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidArgumentError(f"concurrency must be an int >= 1, got {concurrency!r}")
        _check_budget(max_failures)
        if timeout is not None and not timeout > 0:
            raise InvalidArgumentError(f"timeout must be > 0 seconds, got {timeout!r}")
        if not isinstance(items, Iterable | AsyncIterable):
            raise InvalidArgumentError(f"items must be an iterable, got {type(items).__name__}")
        self._items = items
        self._fn = fn
        self._concurrency = concurrency
        self._ordered = ordered
        self._raise_on_error = raise_on_error
        self._max_failures = 0 if raise_on_error and max_failures is None else max_failures
        self._progress = progress
        self._timeout = timeout
        if window is not None and (
            isinstance(window, bool) or not isinstance(window, int) or window < 1
        ):
            raise InvalidArgumentError(f"window must be an int >= 1, got {window!r}")
        self._window = window or max(2 * concurrency, 16)
        total = len(items) if isinstance(items, Sized) else None
        self.report = BulkReport(total=total)
        self._stopping = False
        self._started = False
        self._closed = False
        self._settled = False
        self._gen: AsyncGenerator[ItemResult[T, R], None] | None = None
        self._consumer: asyncio.Task[Any] | None = None

    # -- public ----------------------------------------------------------------------------
    def stop(self) -> None:
        """Start no new item; in-flight ones finish; the rest end ``not_attempted``."""
        self._stop("stopped")

    async def run(self) -> BulkReport:
        """Consume every result and return the report (raises BulkError per raise_on_error)."""
        async for _ in self:
            pass
        return self.report

    def __aiter__(self) -> BulkRun[T, R]:
        return self

    def __anext__(self) -> Awaitable[ItemResult[T, R]]:
        # the stream's own awaitable, not a coroutine around it: one frame fewer per item
        gen = self._gen
        if gen is None:
            if self._started:
                raise RuntimeError("a BulkRun can be iterated only once")
            self._started = True
            gen = self._gen = self._stream()
            # A consumer cancelled while it is not awaiting us (or one that just stops
            # iterating) must not leave workers running: settle the run when it ends.
            self._consumer = asyncio.current_task()
            if self._consumer is not None:
                self._consumer.add_done_callback(self._on_consumer_done)
        return gen.__anext__()

    async def aclose(self) -> None:
        """Cancel what is still running (in-flight items end ``unknown``)."""
        if self._gen is not None:
            await self._gen.aclose()

    async def __aenter__(self) -> BulkRun[T, R]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- machinery -------------------------------------------------------------------------
    def _stop(self, reason: str) -> None:
        if not self._stopping:
            self._stopping = True
            self.report.stopped = self.report.stopped or reason

    def _over_budget(self) -> bool:
        budget, report = self._max_failures, self.report
        if budget is None:
            return False
        if isinstance(budget, float):
            if report.total is not None:
                return report.failed > budget * report.total
            return report.finished >= MIN_SAMPLE_FOR_FRACTION and (
                report.failed > budget * report.finished
            )
        return report.failed > budget

    async def _stream(self) -> AsyncGenerator[ItemResult[T, R], None]:
        loop = asyncio.get_running_loop()
        self._t0 = started = time.perf_counter()
        self._work: asyncio.Queue[tuple[int, T] | _Marker] = asyncio.Queue()
        self._out: asyncio.Queue[ItemResult[T, R] | _Marker] = asyncio.Queue()
        self._slots = asyncio.Semaphore(self._window)
        self._in_flight: dict[int, T] = {}
        self._taken = 0  # items taken from the source
        self._source_error: BaseException | None = None
        self._source_done = False
        self._iter: Any = (
            aiter(self._items) if isinstance(self._items, AsyncIterable) else iter(self._items)
        )
        self._workers_left = self._concurrency
        # an async source is read by one feeder task into the work queue (an async generator
        # cannot be awaited by two workers at once); a sync one by the workers themselves
        self._feeder = (
            asyncio.create_task(self._feed(), name="aiodji-bulk-feeder")
            if isinstance(self._iter, AsyncIterator)
            else None
        )
        self._workers = [
            asyncio.create_task(self._work_loop(), name=f"aiodji-bulk-worker-{i}")
            for i in range(self._concurrency)
        ]
        timer = (
            loop.call_later(self._timeout, self._on_deadline) if self._timeout is not None else None
        )
        pending: dict[int, ItemResult[T, R]] = {}  # ordered mode's reorder buffer
        next_index = 0
        finished = False
        try:
            while True:
                got = await self._out.get()
                if got is _Marker.DEADLINE:
                    await self._abort(read_async_source=True)
                    continue
                if got is _Marker.END:
                    break
                assert isinstance(got, ItemResult)
                self._notify(got)
                if not self._ordered:
                    self._slots.release()
                    yield got
                    continue
                pending[got.index] = got
                while next_index in pending:
                    ready = pending.pop(next_index)
                    next_index += 1
                    self._slots.release()
                    yield ready
            finished = True
        except (asyncio.CancelledError, GeneratorExit):
            self._stop("cancelled")
            raise
        finally:
            if timer is not None:
                timer.cancel()
            if not finished:
                await self._abort(read_async_source=False)
                self._flush_out()
            self.report.seconds = time.perf_counter() - started
            self._closed = True
            if self._consumer is not None:
                self._consumer.remove_done_callback(self._on_consumer_done)
        if self._source_error is not None:
            self.report.stopped = "error"
            raise self._source_error
        if self._raise_on_error and self.report.failed:
            raise BulkError(self.report)

    def _notify(self, result: ItemResult[T, R]) -> None:
        if self._progress is not None:
            self._progress(result)

    def _on_deadline(self) -> None:
        self._stop("deadline")
        self._out.put_nowait(_Marker.DEADLINE)

    def _emit(self, result: ItemResult[T, R]) -> None:
        self.report.add(result)
        self._out.put_nowait(result)
        if result.state is ItemState.FAILED and self._over_budget():
            self._stop("max_failures")

    async def _feed(self) -> None:
        """The feeder of an async source: the work queue, one window slot per item."""
        try:
            while True:
                await self._slots.acquire()  # before anext(): a taken item is never lost
                try:
                    item = await anext(self._iter)
                except StopAsyncIteration:
                    self._slots.release()
                    break
                self._work.put_nowait((self._taken, item))
                self._taken += 1
        except Exception as exc:  # the source failed: stop, in-flight items finish
            self._source_error = exc
            self._stop("error")
        self._source_done = True
        for _ in range(self._concurrency):
            self._work.put_nowait(_Marker.END)

    async def _take(self) -> tuple[int, T] | _Marker:
        """A worker's next item of a sync source, taken from it directly (no feeder task and
        no queue between them: two task switches fewer per item)."""
        if self._source_done:
            return _Marker.END
        await self._slots.acquire()  # before next(): a taken item is never lost
        if self._source_done:  # the source ended while this worker waited for the window
            self._slots.release()
            return _Marker.END
        try:
            item = next(self._iter)
        except Exception as exc:
            self._source_done = True
            self._slots.release()
            if not isinstance(exc, StopIteration):  # the source failed: in-flight items finish
                self._source_error = exc
                self._stop("error")
            return _Marker.END
        index = self._taken
        self._taken += 1
        return index, item

    async def _work_loop(self) -> None:
        take = self._take if self._feeder is None else self._work.get
        while True:
            job = await take()
            if job is _Marker.END:
                break
            assert isinstance(job, tuple)
            index, item = job
            if self._stopping:
                self._emit(ItemResult(item, ItemState.NOT_ATTEMPTED, index=index))
                continue
            sink: list[RawResponse] = []  # the Client appends each answered call (for ``attempts``)
            token = RAW_SINK.set(sink)
            self._in_flight[index] = item
            result: ItemResult[T, R]
            try:
                value = await self._fn(item)
            except asyncio.CancelledError as exc:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # the run is being cancelled: the item stays in flight → unknown
                # fn's own cancellation (an inner timeout): an ordinary failure of this item
                result = ItemResult(item, ItemState.FAILED, error=exc, index=index)
            except Exception as exc:
                attempts = _attempts_made(sink, exc)
                result = ItemResult(
                    item, ItemState.FAILED, error=exc, attempts=attempts, index=index
                )
            else:
                attempts = _attempts_made(sink, None)
                result = ItemResult(
                    item, ItemState.SUCCEEDED, value=value, attempts=attempts, index=index
                )
            finally:
                RAW_SINK.reset(token)
            if index in self._in_flight:  # else: already settled as unknown by a cancellation
                del self._in_flight[index]
                self._emit(result)
        self._workers_left -= 1
        if self._workers_left == 0:
            self._out.put_nowait(_Marker.END)

    def _cancel_tasks(self) -> list[asyncio.Task[None]]:
        tasks = [*self._workers] if self._feeder is None else [self._feeder, *self._workers]
        for task in tasks:
            task.cancel()
        return tasks

    def _settle_remaining(self) -> None:
        """In-flight → unknown; queued and the rest of a sync source → not_attempted. Once."""
        if self._settled:
            return
        self._settled = True
        for index, item in sorted(self._in_flight.items()):
            self._emit(ItemResult(item, ItemState.UNKNOWN, index=index))
        self._in_flight.clear()
        while not self._work.empty():
            job = self._work.get_nowait()
            if isinstance(job, tuple):
                self._emit(ItemResult(job[1], ItemState.NOT_ATTEMPTED, index=job[0]))
        if not self._source_done and not isinstance(self._iter, AsyncIterator):
            self._source_done = True
            with contextlib.suppress(Exception):
                for item in self._iter:
                    self._put_not_attempted(item)

    async def _abort(self, *, read_async_source: bool) -> None:
        """Cancel feeder and workers, settle every remaining item, then END the stream."""
        self._stop("cancelled")
        tasks = self._cancel_tasks()
        # Shielded so a second cancellation cannot leave tasks behind half-cancelled.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(asyncio.gather(*tasks, return_exceptions=True))
        self._settle_remaining()
        if read_async_source and not self._source_done:
            self._source_done = True
            with contextlib.suppress(Exception):
                async for item in self._iter:
                    self._put_not_attempted(item)
        self._out.put_nowait(_Marker.END)

    def _on_consumer_done(self, task: asyncio.Task[Any]) -> None:
        """The consuming task ended (cancelled, or it stopped iterating) with work left."""
        if self._closed:
            return
        self._stop("cancelled")
        self._cancel_tasks()
        self._settle_remaining()
        self._flush_out()
        self.report.seconds = time.perf_counter() - self._t0

    def _put_not_attempted(self, item: T) -> None:
        self._emit(ItemResult(item, ItemState.NOT_ATTEMPTED, index=self._taken))
        self._taken += 1

    def _flush_out(self) -> None:
        """After a cancellation: hand the results nobody will consume to the callback."""
        while not self._out.empty():
            got = self._out.get_nowait()
            if isinstance(got, ItemResult):
                with contextlib.suppress(Exception):
                    self._notify(got)


def run_bulk(
    items: Iterable[T] | AsyncIterable[T],
    fn: Callable[[T], Awaitable[R]],
    **options: Unpack[BulkOptions],
) -> BulkRun[T, R]:
    """Run ``await fn(item)`` for every item with ``concurrency`` workers.

    - ``items``: a sync or async iterable, read lazily (a generator of 100,000 items is fine).
    - ``concurrency``: the number of worker tasks (calls in flight at most). Calls still wait
      on the Client's limiter, so a rate-limited call delays only its own worker.
    - ``ordered``: yield results in input order (a bounded reorder buffer; a slow item holds
      back at most a window of others).
    - ``max_failures``: an int count, or a float fraction of the items (of the finished items
      when the source has no len()); once exceeded no new item starts.
    - ``raise_on_error``: stop at the first failure (unless ``max_failures`` says otherwise) and
      raise :class:`BulkError` after in-flight items finished and every result was yielded.
    - ``progress``: called with every final ItemResult, including those settled by a
      cancellation that the iterator can no longer yield.
    - ``timeout``: a deadline in seconds for the whole run (see the module docstring).
    - ``window``: items between the source and the consumer at most (default
      ``max(2 × concurrency, 16)``): queued, in flight and not yet consumed.
    """
    return BulkRun(items, fn, **options)
