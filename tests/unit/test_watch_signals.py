"""`dr status --watch` ends on Ctrl-C even when Python swallows the KeyboardInterrupt: a
signal that arrives while a garbage-collection finalizer runs is printed as "Exception
ignored in: <finalize object>" and lost. CI saw a watch read on for 30 s after its SIGINT."""

from __future__ import annotations

import os
import signal
import sys
import weakref
from typing import Any

from dr.cli.watch import watch_status


class _Resource:
    pass


def test_a_sigint_swallowed_by_a_finalizer_still_ends_the_watch(capsys: Any,
                                                                 monkeypatch: Any) -> None:
    swallowed: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", swallowed.append)
    readings = 0

    def gather(_config: Any) -> dict[str, Any]:
        nonlocal readings
        readings += 1
        if readings == 2:
            # The signal lands inside the finalizer, exactly where it landed in CI.
            def finalizer() -> None:
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(1000):  # bytecode for the handler to run in
                    pass

            weakref.finalize(_Resource(), finalizer)
        assert readings < 50, "the watch kept reading after its Ctrl-C"
        return {"reading": readings}

    assert watch_status(None, every=0.01, as_json=True, gather=gather) == 0
    assert [type(s.exc_value) for s in swallowed] == [KeyboardInterrupt]  # really swallowed...
    assert capsys.readouterr().out.splitlines() == ['{"reading": 1}']  # ...yet the watch ended
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
