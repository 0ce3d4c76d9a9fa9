"""The executor with in-memory steps (acceptance 4): dependency order, independent steps
side by side (shown by event order), a failure stopping its dependents, best-effort steps
in a lost region, and readiness deciding whether anything runs at all."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from dr.errors import RegionUnavailable
from dr.runbook.context import StepContext
from dr.runbook.run import Request
from dr.runbook.steptype import Problem
from tests.engine.memory_steps import WAIT, Spec, Trace, run, step_id, steps

pytestmark = pytest.mark.usefixtures("registered")


def journal(tmp_path: Path, run_id: str) -> list[dict]:
    path = tmp_path / ".dr" / "runs" / run_id / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def gate(event: threading.Event, what: str) -> None:
    if not event.wait(WAIT):
        raise AssertionError(f"never happened: {what}")


def test_dependencies_finish_before_their_dependents_start(tmp_path: Path) -> None:
    trace = Trace()
    #   a ─┬─ b ─┬─ d ── e
    #      └─ c ─┘
    specs = [Spec("a", trace), Spec("b", trace, needs=("a",)), Spec("c", trace, needs=("a",)),
             Spec("d", trace, needs=("b", "c")), Spec("e", trace, needs=("d",))]

    result = run(tmp_path, specs)

    assert result.outcome == "succeeded" and result.exit_code == 0
    assert sorted(trace.keys("start")) == ["a", "b", "c", "d", "e"]
    for spec in specs:
        for need in spec.needs:
            assert trace.index("verify", need) < trace.index("start", spec.key), (need, spec)
    records = journal(tmp_path, result.report["run_id"])
    position = {(r["event"], r.get("step")): i for i, r in enumerate(records)}
    for spec in specs:
        for need in spec.needs:
            assert (position[("step.finished", step_id(need))]
                    < position[("step.started", step_id(spec.key))])
    assert [s["status"] for s in result.report["steps"]] == ["succeeded"] * 5


def test_independent_steps_run_side_by_side(tmp_path: Path) -> None:
    trace = Trace()
    a_running, b_running = threading.Event(), threading.Event()

    def a(ctx: StepContext) -> None:
        a_running.set()
        gate(b_running, "b running while a runs")

    def b(ctx: StepContext) -> None:
        b_running.set()
        gate(a_running, "a running while b runs")

    result = run(tmp_path, [Spec("a", trace, apply=a), Spec("b", trace, apply=b),
                            Spec("c", trace, needs=("a", "b"))])

    assert result.outcome == "succeeded"
    # Each of a and b started before the other ended: they overlapped.
    assert trace.index("start", "a") < trace.index("end", "b")
    assert trace.index("start", "b") < trace.index("end", "a")
    assert trace.index("start", "c") > max(trace.index("end", "a"), trace.index("end", "b"))


def test_a_failed_step_stops_its_dependents_and_fails_the_run(tmp_path: Path) -> None:
    trace = Trace()
    failing = threading.Event()

    def boom(ctx: StepContext) -> None:
        failing.set()
        raise RuntimeError("the bucket is on fire")

    def beside(ctx: StepContext) -> None:
        gate(failing, "the failing step ran")

    # a fails; b and c depend on it; d runs beside a and is already running when a fails.
    result = run(tmp_path, [Spec("a", trace, apply=boom), Spec("b", trace, needs=("a",)),
                            Spec("c", trace, needs=("b",)), Spec("d", trace, apply=beside)])

    assert result.outcome == "failed" and result.exit_code == 1
    by_id = steps(result)
    assert by_id[step_id("a")]["status"] == "failed"
    assert "the bucket is on fire" in by_id[step_id("a")]["error"]
    for key in ("b", "c"):
        record = by_id[step_id(key)]
        assert record["status"] == "skipped"
        assert record["detail"]["not_started"] is True
        assert record["started_at"] is None and record["attempts"] == 0
    assert "a" in by_id[step_id("b")]["detail"]["reason"]
    assert by_id[step_id("d")]["status"] == "succeeded"
    assert set(trace.keys("start")) == {"a", "d"}
    started = {r.get("step") for r in journal(tmp_path, result.report["run_id"])
               if r["event"] == "step.started"}
    assert started == {step_id("a"), step_id("d")}
    assert result.report["changed"] == [step_id("d")]


def test_a_failed_step_that_nothing_needs_still_fails_the_run(tmp_path: Path) -> None:
    trace = Trace()

    def boom(ctx: StepContext) -> None:
        raise ValueError("nope")

    result = run(tmp_path, [Spec("a", trace), Spec("z", trace, needs=("a",), apply=boom)])

    assert result.outcome == "failed" and result.exit_code == 1
    assert steps(result)[step_id("z")]["status"] == "failed"


def test_best_effort_step_in_a_lost_region_is_skipped_with_a_follow_up(tmp_path: Path
                                                                      ) -> None:
    trace = Trace()

    def lost(ctx: StepContext) -> None:
        raise RegionUnavailable("us-east-1", "DescribeServices: ConnectTimeoutError")

    result = run(tmp_path, [
        Spec("old", trace, apply=lost, best_effort=True, acts_in="from"),
        Spec("after", trace, needs=("old",)),
    ])

    assert result.outcome == "succeeded" and result.exit_code == 0
    old = steps(result)[step_id("old")]
    assert old["status"] == "skipped"
    assert "us-east-1" in old["detail"]["reason"]
    assert "ConnectTimeoutError" in old["detail"]["reason"]
    assert old["detail"]["follow_up"] == "check us-east-1 once it answers"
    assert result.report["follow_ups"] == ["check us-east-1 once it answers"]
    # A skipped best-effort step does not hold back what comes after it.
    assert steps(result)[step_id("after")]["status"] == "succeeded"


def test_a_step_that_is_not_best_effort_fails_when_its_region_is_lost(tmp_path: Path
                                                                     ) -> None:
    trace = Trace()

    def lost(ctx: StepContext) -> None:
        raise RegionUnavailable("us-west-2", "PromoteReadReplica: ReadTimeoutError")

    result = run(tmp_path, [Spec("promote", trace, apply=lost)])

    assert result.outcome == "failed" and result.exit_code == 1
    assert "us-west-2" in steps(result)[step_id("promote")]["error"]


def test_readiness_problems_stop_the_run_before_anything_is_applied(tmp_path: Path) -> None:
    trace = Trace()

    def missing(ctx: StepContext) -> list[Problem]:
        return [Problem("databases.main", "replica timeline-main-dr not found")]

    result = run(tmp_path, [Spec("a", trace), Spec("b", trace, check=missing),
                            Spec("c", trace, needs=("a",))])

    assert result.outcome == "not_ready" and result.exit_code == 3
    assert sorted(trace.keys("check")) == ["a", "b", "c"]
    assert trace.keys("start") == []
    assert result.report["steps"] == []
    assert result.report["problems"] == ["databases.main: replica timeline-main-dr not found"]
    events = [r["event"] for r in journal(tmp_path, result.report["run_id"])]
    assert "step.started" not in events and "readiness.passed" not in events


def test_a_readiness_check_that_raises_is_a_readiness_problem(tmp_path: Path) -> None:
    trace = Trace()

    def broken(ctx: StepContext) -> list[Problem]:
        raise KeyError("Replicas")

    result = run(tmp_path, [Spec("a", trace, check=broken)])

    assert result.outcome == "not_ready" and result.exit_code == 3
    assert trace.keys("start") == []
    assert "readiness check failed" in result.report["problems"][0]


def lagging(ctx: StepContext) -> list[Problem]:
    return [Problem("databases.main", "replica lag 300 s above RPO target 60 s",
                    data_loss=True)]


def test_data_loss_problems_block_without_accept_data_loss(tmp_path: Path) -> None:
    trace = Trace()

    result = run(tmp_path, [Spec("promote", trace, check=lagging)])

    assert result.outcome == "not_ready" and result.exit_code == 3
    assert trace.keys("start") == []


def test_accept_data_loss_lets_data_loss_problems_through(tmp_path: Path) -> None:
    trace = Trace()

    result = run(tmp_path, [Spec("promote", trace, check=lagging)],
                 Request(command="failover", to="secondary", accept_data_loss=True))

    assert result.outcome == "succeeded" and result.exit_code == 0
    assert trace.keys("start") == ["promote"]
    assert result.report["accepted_data_loss"] == [
        "databases.main: replica lag 300 s above RPO target 60 s"]


def test_accept_data_loss_does_not_let_other_problems_through(tmp_path: Path) -> None:
    trace = Trace()

    def both(ctx: StepContext) -> list[Problem]:
        return [*lagging(ctx), Problem("services.timeline/api", "cluster not found")]

    result = run(tmp_path, [Spec("a", trace, check=both)],
                 Request(command="failover", to="secondary", accept_data_loss=True))

    assert result.outcome == "not_ready" and result.exit_code == 3
    assert trace.keys("start") == []
    assert result.report["problems"] == ["services.timeline/api: cluster not found"]
