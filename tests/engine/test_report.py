"""Reports (acceptance 8): report.json validates against the shipped JSON Schema, junit.xml
parses as JUnit XML with one testcase per step plus the RTO and RPO targets, and report.md
holds a Mermaid gantt chart of the steps' times. (The engine tests' conftest also checks
every report any of them writes.)"""

from __future__ import annotations

import copy
import json
import re
import threading
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from dr.errors import RegionUnavailable
from dr.runbook import report
from dr.runbook.context import StepContext
from dr.runbook.graph import Runbook
from dr.runbook.run import Request, Result, Runner
from dr.runbook.steptype import Direction, Problem
from tests.engine.memory_steps import (
    DIRECTION,
    PRIMARY,
    SECONDARY,
    Spec,
    Trace,
    config,
    run,
    runbook,
    step_id,
)
from tests.engine.report_checks import check_report_dir, junit_cases, validate

pytestmark = pytest.mark.usefixtures("registered")


def written(result: Result) -> Path:
    [directory] = {p.parent for p in result.paths}
    assert sorted(p.name for p in result.paths) == ["junit.xml", "report.html", "report.json",
                                                   "report.md"]
    on_disk = json.loads((directory / "report.json").read_text())
    assert on_disk == json.loads(json.dumps(result.report))
    return directory


def boom(ctx: StepContext) -> None:
    raise RuntimeError("nope")


def lost(ctx: StepContext) -> None:
    raise RegionUnavailable(PRIMARY, "DescribeServices: ReadTimeoutError")


def mermaid_gantt(markdown: str) -> list[str]:
    blocks = re.findall(r"^```mermaid\n(.*?)^```$", markdown, flags=re.M | re.S)
    assert len(blocks) == 1, markdown
    lines = blocks[0].splitlines()
    assert lines[0] == "gantt"
    return lines


def test_a_succeeded_run_writes_all_three_reports(tmp_path: Path) -> None:
    trace = Trace()
    result = run(tmp_path, [Spec("a", trace), Spec("b", trace, needs=("a",)),
                            Spec("c", trace, needs=("a",))])

    directory = written(result)
    document = check_report_dir(directory)
    assert document["outcome"] == "succeeded"
    assert document["rto"]["met"] is True and document["rto"]["method"] == "last_step"

    cases = junit_cases(directory / "junit.xml")
    assert [c.get("name") for c in cases] == [step_id(k) for k in "abc"] + [
        "rto_target", "rpo_target"]
    assert all(c.find("failure") is None for c in cases[:4])
    # No database, so no RPO measure: its testcase is skipped, not passed or failed.
    assert cases[-1].find("skipped") is not None

    gantt = mermaid_gantt((directory / "report.md").read_text())
    assert any(line.strip().startswith("dateFormat") for line in gantt)
    for key in "abc":
        step = document["steps"][["a", "b", "c"].index(key)]
        [task] = [line for line in gantt if line.strip().startswith(f"{key}.run :")]
        assert step["started_at"][:-1] in task and step["finished_at"][:-1] in task


def test_a_failed_run_reports_the_failure_and_what_did_not_start(tmp_path: Path) -> None:
    trace = Trace()
    result = run(tmp_path, [Spec("a", trace, apply=boom), Spec("b", trace, needs=("a",))])

    directory = written(result)
    document = check_report_dir(directory)
    assert document["outcome"] == "failed"
    cases = {c.get("name"): c for c in junit_cases(directory / "junit.xml")}
    failure = cases[step_id("a")].find("failure")
    assert failure is not None and "nope" in failure.get("message", "")
    skipped = cases[step_id("b")].find("skipped")
    assert skipped is not None and "not started" in skipped.get("message", "")
    assert ET.parse(directory / "junit.xml").getroot().get("failures") == "1"
    gantt = mermaid_gantt((directory / "report.md").read_text())
    assert any(line.strip().startswith("a.run :crit") for line in gantt)


def test_a_not_ready_run_reports_its_problems_and_both_targets(tmp_path: Path) -> None:
    def missing(ctx: StepContext) -> list[Problem]:
        return [Problem("databases.main", "replica missing")]

    result = run(tmp_path, [Spec("a", Trace(), check=missing)])

    directory = written(result)
    document = check_report_dir(directory)
    assert document["outcome"] == "not_ready" and document["steps"] == []
    assert [c.get("name") for c in junit_cases(directory / "junit.xml")] == [
        "rto_target", "rpo_target"]
    assert "replica missing" in (directory / "report.md").read_text()


def test_a_skipped_best_effort_step_and_its_follow_up_are_reported(tmp_path: Path) -> None:
    result = run(tmp_path, [Spec("a", Trace()),
                            Spec("old", Trace(), apply=lost, best_effort=True,
                                 acts_in="from")])

    directory = written(result)
    document = check_report_dir(directory)
    assert document["follow_ups"] == [f"check {PRIMARY} once it answers"]
    cases = {c.get("name"): c for c in junit_cases(directory / "junit.xml")}
    assert cases[step_id("old")].find("skipped") is not None
    assert f"follow-up: check {PRIMARY}" in (directory / "report.md").read_text()


def test_a_dry_run_report_is_planned(tmp_path: Path) -> None:
    result = run(tmp_path, [Spec("a", Trace()), Spec("b", Trace(), needs=("a",))],
                 Request(command="plan", to="secondary", dry_run=True))

    document = check_report_dir(written(result))
    assert document["outcome"] == "planned" and document["dry_run"] is True
    assert document["rto"]["method"] == "estimate"
    assert {s["status"] for s in document["steps"]} == {"planned"}


def test_a_report_with_phases_is_valid(tmp_path: Path) -> None:
    back = Direction(to="primary", to_region=PRIMARY, from_region=SECONDARY)
    there = runbook([Spec("a", Trace())])
    home = Runbook("failback", back, tuple(runbook([Spec("a", Trace())]).nodes))
    runner = Runner(config(tmp_path), planner=lambda _c, _r, _g: [
        ("failover", there), ("failback", home)], state_dir=tmp_path / ".dr")

    result = runner.run(Request(command="drill", to="secondary"))

    document = check_report_dir(written(result))
    assert [s["id"] for s in document["steps"]] == [
        f"failover/{step_id('a')}", f"failback/{step_id('a')}"]
    assert [p["name"] for p in document["phases"]] == ["failover", "failback"]
    assert document["from_region"] == DIRECTION.from_region


def test_the_reports_survive_awkward_text(tmp_path: Path) -> None:
    def awkward(ctx: StepContext) -> None:
        raise RuntimeError('<&> "quoted" | piped ]]> ünïcode\nsecond line')

    result = run(tmp_path, [Spec("x", Trace(), apply=awkward)])

    directory = written(result)
    check_report_dir(directory)
    cases = {c.get("name"): c for c in junit_cases(directory / "junit.xml")}
    failure = cases[step_id("x")].find("failure")
    assert failure is not None and "ünïcode" in failure.get("message", "")


@pytest.fixture
def good(tmp_path: Path) -> dict[str, Any]:
    result = run(tmp_path, [Spec("a", Trace())])
    return copy.deepcopy(result.report)


@pytest.mark.parametrize("breakage", [
    lambda r: r.pop("run_id"),
    lambda r: r.update(outcome="completed"),
    lambda r: r.update(started_at="2026-11-24 21:40:00"),
    lambda r: r["steps"][0].update(status="done"),
    lambda r: r["steps"][0].pop("attempts"),
    lambda r: r["rpo"].update(method="none", measured_seconds=4.0),
    lambda r: r["rto"].update(met="yes"),
], ids=["no-run-id", "unknown-outcome", "timestamp-without-zone", "unknown-status",
        "step-without-attempts", "rpo-none-with-a-value", "met-not-boolean"])
def test_the_schema_rejects_what_the_contract_forbids(good: dict[str, Any], breakage: Any
                                                      ) -> None:
    validate(good)
    breakage(good)
    with pytest.raises(jsonschema.ValidationError):
        validate(good)


def test_the_contract_example_is_valid() -> None:
    example = {
        "run_id": "2026-11-24T21-40-00Z-3f9a", "command": "failover", "dry_run": False,
        "from_region": "us-east-1", "to_region": "us-west-2",
        "started_at": "2026-11-24T21:40:00.000Z", "finished_at": "2026-11-24T21:52:31.200Z",
        "outcome": "succeeded",
        "rto": {"target_seconds": 900, "measured_seconds": 751.2, "met": True},
        "rpo": {"target_seconds": 60, "measured_seconds": 4.0, "method": "replica_lag",
                "met": True},
        "steps": [{"id": "databases.main.promote", "status": "succeeded",
                   "started_at": "2026-11-24T21:40:01.000Z",
                   "finished_at": "2026-11-24T21:45:02.400Z", "seconds": 301.4,
                   "attempts": 1, "detail": {}}],
    }
    validate(example)
    assert report.EXIT_CODES[example["outcome"]] == 0


def test_reports_of_concurrent_steps_are_valid(tmp_path: Path) -> None:
    barrier = threading.Barrier(4, timeout=20)
    result = run(tmp_path, [Spec(k, Trace(), apply=lambda ctx: barrier.wait()) for k in "wxyz"])
    document = check_report_dir(written(result))
    assert [s["status"] for s in document["steps"]] == ["succeeded"] * 4


def test_junit_stays_parseable_when_an_error_holds_control_characters(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    # Outside tmp_path, so the conftest's report check does not see it.
    where = tmp_path_factory.mktemp("control-characters")

    def coloured(ctx: StepContext) -> None:
        raise RuntimeError("\x1b[31mconnection refused\x1b[0m")

    result = run(where, [Spec("x", Trace(), apply=coloured)])

    cases = {c.get("name"): c for c in junit_cases(written(result) / "junit.xml")}
    failure = cases[step_id("x")].find("failure")
    assert failure is not None and "connection refused" in failure.get("message", "")
