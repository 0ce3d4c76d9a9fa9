"""Fixtures for tests that need AWS: one emulator per session, emptied before each test.

- `emulator`: the session's `Emulator` (instant profile), started once.
- `aws`: per test; resets the emulator, points this process's AWS environment at it and
  yields a `LabAws` (endpoint, environment for a `dr` subprocess, client factory).
- `regionfront`: per test; a `RegionFront` proxy in front of the emulator, with this
  process's `AWS_ENDPOINT_URL` pointed at it. `aws.via(regionfront.url)` gives clients and
  an environment that go through it.

Every test package can use them. `@pytest.mark.needs("postgres"|"terraform"|"aws")` marks a
test that needs an outside tool: skipped without it, failed under `CI=true`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dr.lab import fidelity
from dr.lab.emulator import Emulator
from dr.lab.regionfront import RegionFront
from dr.lab.timing import INSTANT
from tests.support import tools
from tests.support.lab_aws import LabAws


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs(tool): the test needs an outside tool "
                            f"({', '.join(tools.MISSING)}); skipped without it, failed under CI")


@pytest.fixture(autouse=True)
def own_lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Local locks are host-wide (`DR_LOCK_DIR`, inherited by subprocesses): each test gets
    its own directory, so tests running side by side on one host do not see each other."""
    path = tmp_path / "locks"
    monkeypatch.setenv("DR_LOCK_DIR", str(path))
    return path


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in item.iter_markers("needs"):
        for tool in marker.args:
            reason = tools.MISSING[tool]()
            if reason is None:
                continue
            if tools.in_ci():
                pytest.fail(f"{reason}; CI=true, and CI must install what the tests need",
                            pytrace=False)
            pytest.skip(reason)


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
