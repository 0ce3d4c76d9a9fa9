"""Engine-test fixtures: the in-memory step type in the registry for one test, and a check
that every report any engine test wrote is a valid report (acceptance 8)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dr.runbook.steptype import REGISTRY
from tests.engine.memory_steps import MemoryStep
from tests.engine.report_checks import check_report_dir


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> type[MemoryStep]:
    monkeypatch.setitem(REGISTRY, MemoryStep.name, MemoryStep)
    return MemoryStep


@pytest.fixture(autouse=True)
def reports_are_valid(tmp_path: Path) -> Iterator[None]:
    yield
    for report in sorted(tmp_path.rglob("report.json")):
        check_report_dir(report.parent)
