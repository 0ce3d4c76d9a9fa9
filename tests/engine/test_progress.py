"""What the live board is fed: a real Runner's planner, journal hook and log events, with
in-memory steps. The board's state follows the run (a wait shows what it waits for while it
waits) and ends where the report ends; a drill too tall for the terminal is folded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dr import logs
from dr.cli.progress import RunProgress, View, rows
from dr.errors import RegionUnavailable
from dr.runbook.context import StepContext
from dr.runbook.journal import parse_iso
from dr.runbook.run import Request, Runner
from tests.engine.memory_steps import Spec, Trace, config, runbook, step_id

pytestmark = pytest.mark.usefixtures("registered")


def run_watched(tmp_path: Path, progress: RunProgress, phases: list[tuple[str, list[Spec]]],
                request: Request | None = None) -> dict:
    books = [(name, runbook(specs)) for name, specs in phases]
    runner = Runner(config(tmp_path), planner=progress.planner(lambda _c, _r, _g: books),
                    state_dir=tmp_path / ".dr", after_append=progress.record)
    request = request or Request(command="failover", to="secondary")
    progress.follow(runner, request)
    with logs.diverted(progress.event):
        result = runner.run(request)
    progress.finish(result.report)
    return result.report


def by_id(view: View) -> dict[str, object]:
    return {s.id: s for s in view.steps}


def test_the_board_follows_the_run_and_ends_where_the_report_ends(tmp_path: Path) -> None:
    trace = Trace()
    progress = RunProgress()
    seen: list[View] = []

    def waits(ctx: StepContext) -> None:
        def probe() -> bool:
            seen.append(progress.view())  # after wait.started, before the wait ends
            return True

        ctx.wait("the replica to catch up", probe)

    def lost(ctx: StepContext) -> None:
        raise RegionUnavailable("us-east-1", "no answer")

    def fails(ctx: StepContext) -> None:
        raise RuntimeError("boom")

    specs = [Spec("a", trace), Spec("b", trace, needs=("a",), apply=waits),
             Spec("c", trace, needs=("b",)),
             Spec("gone", trace, apply=lost, best_effort=True, acts_in="from"),
             Spec("bad", trace, needs=("c",), apply=fails), Spec("after", trace, needs=("bad",))]

    report = run_watched(tmp_path, progress, [("failover", specs)])

    (during,) = seen
    steps = by_id(during)
    assert steps[step_id("a")].state == "succeeded"
    assert steps[step_id("b")].state == "running"
    assert steps[step_id("b")].awaiting == "the replica to catch up"
    assert steps[step_id("c")].state == "pending"
    assert during.clock is not None and during.clock.target_seconds == 900
    final = progress.view()
    assert [(s.id, s.state) for s in final.steps] == [
        (s["id"], s["status"]) for s in report["steps"]]
    assert by_id(final)[step_id("bad")].note == "boom"
    assert by_id(final)[step_id("after")].note.startswith("not started")
    assert list(final.follow_ups) == report["follow_ups"] != []
    assert final.outcome == report["outcome"] == "failed"
    assert final.run_id == report["run_id"]


def test_a_drill_too_tall_for_the_terminal_is_folded_by_phase(tmp_path: Path) -> None:
    trace = Trace()
    progress = RunProgress()
    seen: list[View] = []

    def waits(ctx: StepContext) -> None:
        ctx.wait("a while", lambda: seen.append(progress.view()) or True)

    #   each phase: 0 ─ 1 ─ 2 ─ 3 ─ 4 ─ 5, and reprotect's step 2 waits
    phases = [(name, [Spec(f"{name}{i}", trace, needs=(f"{name}{i - 1}",) if i else (),
                           apply=waits if (name, i) == ("reprotect", 2) else None)
                      for i in range(6)])
              for name in ("failover", "reprotect", "failback")]
    report = run_watched(tmp_path, progress, phases, Request(command="drill", to="secondary"))

    final = progress.view()
    assert len(final.steps) == len(report["steps"]) == 18
    assert all(s.id.startswith(s.phase + "/") for s in final.steps)
    assert rows(final, 18) == list(final.steps)
    assert rows(final, 8) == ["failover: 6 succeeded", "reprotect: 6 succeeded",
                              "failback: 6 succeeded"]
    (during,) = seen
    failover_end = max(parse_iso(s["finished_at"]).timestamp() for s in report["steps"]
                       if s["id"].startswith("failover/"))
    assert during.phase_finished_at("failover") == pytest.approx(failover_end, abs=0.05)
    assert during.phase_finished_at("reprotect") is None  # the board's RTO clock stops there
    folded = rows(during, 6)
    assert folded[:2] == ["failover: 6 succeeded", "reprotect: 2 succeeded"]
    assert [(s.id, s.state) for s in folded[2:4]] == [  # type: ignore[union-attr]
        ("reprotect/" + step_id("reprotect2"), "running"),
        ("reprotect/" + step_id("reprotect3"), "pending")]
    assert folded[4:] == ["reprotect: 2 pending more", "failback: 6 pending"]


def test_a_resumed_run_starts_from_what_its_journal_says(tmp_path: Path) -> None:
    trace = Trace()
    seen: list[View] = []

    def waits(ctx: StepContext) -> None:
        ctx.wait("a while", lambda: seen.append(progress.view()) or True)

    specs = [Spec("a", trace), Spec("b", trace, needs=("a",)),
             Spec("c", trace, needs=("b",), apply=waits)]
    progress = RunProgress()
    first = run_watched(tmp_path, progress, [("failover", specs)])
    # A run killed after b had finished: its journal ends there.
    journal = tmp_path / ".dr" / "runs" / first["run_id"] / "journal.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines)
               if json.loads(line).get("event") == "step.finished"
               and json.loads(line)["step"] == step_id("b"))
    journal.write_text("".join(lines[:cut + 1]))
    seen.clear()

    progress = RunProgress()
    report = run_watched(tmp_path, progress, [("failover", specs)],
                         Request(command="failover", to="secondary", resume=first["run_id"]))

    (during,) = seen
    assert [(s.id, s.state) for s in during.steps] == [
        (step_id("a"), "succeeded"), (step_id("b"), "succeeded"), (step_id("c"), "running")]
    assert [(s.id, s.state) for s in progress.view().steps] == [
        (s["id"], s["status"]) for s in report["steps"]]


def test_what_the_board_cannot_read_is_a_notice_never_an_error_in_the_step() -> None:
    progress = RunProgress()

    progress.record({"event": "step.finished", "step": "s", "status": "succeeded",
                     "detail": "not a mapping"})
    progress.event({"event": "run.not_ready", "level": "warning", "problems": 7})

    notices = progress.view().notices
    assert len(notices) == 2
    assert all(n.startswith("error: the board could not show") for n in notices)
