"""Fixtures the lab's tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dr.lab import fidelity
from dr.lab.timing import INSTANT, TimingProfile
from tests.support.clock import FakeClock
from tests.support.lab_aws import LabAws


@pytest.fixture
def clock(aws: LabAws) -> Iterator[FakeClock]:
    """The realistic profile on a clock that only moves when the test says so."""
    fake = FakeClock()
    fidelity.apply(TimingProfile("realistic"), clock=fake)
    yield fake
    fidelity.apply(INSTANT)
    fidelity.clear()
