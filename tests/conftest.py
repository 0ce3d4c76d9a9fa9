"""Fixtures for tests that need AWS: one emulator per session, emptied before each test.

- `emulator`: the session's `Emulator` (instant profile), started once.
- `aws`: per test; resets the emulator, points this process's AWS environment at it and
  yields a `LabAws` (endpoint, environment for a `dr` subprocess, client factory).
- `regionfront`: per test; a `RegionFront` proxy in front of the emulator, with this
  process's `AWS_ENDPOINT_URL` pointed at it. `aws.via(regionfront.url)` gives clients and
  an environment that go through it.

Every test package can use them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dr.lab import fidelity
from dr.lab.emulator import Emulator
from dr.lab.regionfront import RegionFront
from dr.lab.timing import INSTANT
from tests.support.lab_aws import LabAws


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with Emulator(INSTANT) as running:
        yield running


@pytest.fixture
def aws(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[LabAws]:
    fidelity.apply(INSTANT)  # a test may have changed the profile or the clock
    emulator.reset()
    lab = LabAws(emulator.endpoint_url)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in lab.env.items():
        monkeypatch.setenv(name, value)
    yield lab


@pytest.fixture
def regionfront(aws: LabAws, monkeypatch: pytest.MonkeyPatch) -> Iterator[RegionFront]:
    with RegionFront(aws.endpoint_url) as front:
        monkeypatch.setenv("AWS_ENDPOINT_URL", front.url)
        yield front
