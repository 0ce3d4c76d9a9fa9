"""A clock for the fidelity layer that moves only when a test says so."""

from __future__ import annotations


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
