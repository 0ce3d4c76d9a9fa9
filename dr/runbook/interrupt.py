"""SIGINT (Ctrl-C) and SIGTERM (an ECS task being stopped) during a run: contract 1.1,
"Interrupted runs".

The first signal asks the run to stop: no new step starts, a step in a wait abandons it, a
step in an AWS call finishes that call; the runner then journals `run.interrupted`, writes
the report (outcome `interrupted`), releases the lock and exits 128 + the signal's number.
A repeated signal is told that the run is already stopping: raising in the main thread
there would leave steps mid-call without their journal record, and the wait for them is
short (every call has a bounded timeout). Handlers can only be installed from the main
thread; elsewhere (a run driven from a test's thread) signals keep their own handlers.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from types import FrameType, TracebackType

import structlog

log = structlog.get_logger("dr.run")

SIGNALS = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}


@contextmanager
def handled(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    """`handler` for SIGINT and SIGTERM while inside, the previous handlers after. Only the
    main thread can install handlers; elsewhere the signals keep theirs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, handler) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler_before in previous.items():
            signal.signal(signum, handler_before)


def exit_code(name: str) -> int:
    """The shell's convention: 128 + the signal's number (130 for SIGINT, 143 for SIGTERM)."""
    return 128 + int(getattr(signal, name))


class Interrupts:
    """While entered, the first SIGINT or SIGTERM calls `stop(name)` once."""

    def __init__(self, stop: Callable[[str], None]) -> None:
        self._stop = stop
        self.received: str | None = None
        self._handled: AbstractContextManager[None] = nullcontext()

    def __enter__(self) -> Interrupts:
        self._handled = handled(self._handle)
        self._handled.__enter__()
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = SIGNALS[signal.Signals(signum)]
        if self.received is not None:
            print(f"dr: {name} again: already stopping at the next step boundary "
                  "(steps in an AWS call finish that call)", file=sys.stderr, flush=True)
            return
        self.received = name
        log.warning("run.interrupting", signal=name)
        self._stop(name)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._handled.__exit__(exc_type, exc, traceback)
