"""report.html, looked at in a real browser (headless Chromium, Debian's package): for a run
that succeeded, one that failed and one that was interrupted, the page loads with no console
error and no request beyond its own file, its timeline has one bar per step, and it can be
captured as a picture."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dr.errors import RegionUnavailable
from dr.runbook import report
from dr.runbook.context import StepContext
from tests.engine.memory_steps import Spec, Trace, run
from tests.support.browser import Chromium

pytestmark = [pytest.mark.needs("chromium"), pytest.mark.usefixtures("registered")]

BARS = "document.querySelectorAll('svg.timeline rect.bar').length"
RECTS = "document.querySelectorAll('svg rect').length"
LABELS = "[...document.querySelectorAll('svg.timeline text')].map(t => t.textContent)"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    with Chromium(tmp_path_factory.mktemp("chromium-profile")) as chromium:
        yield chromium


def lost(ctx: StepContext) -> None:
    raise RegionUnavailable("us-east-1", "connect timeout")


def fails(ctx: StepContext) -> None:
    raise RuntimeError("PromoteReadReplica: InvalidDBInstanceState: <script>busy</script>")


def succeeded(tmp_path: Path) -> dict[str, Any]:
    trace = Trace()
    result = run(tmp_path / "succeeded", [
        Spec("fence", trace), Spec("promote", trace, needs=("fence",)),
        Spec("scale-up", trace), Spec("dns", trace, needs=("promote", "scale-up")),
        Spec("scale-down", trace, needs=("dns",), apply=lost, best_effort=True,
             acts_in="from")])
    assert result.outcome == "succeeded" and result.report["follow_ups"]
    return result.report


def failed(tmp_path: Path) -> dict[str, Any]:
    trace = Trace()
    result = run(tmp_path / "failed", [
        Spec("fence", trace), Spec("promote", trace, needs=("fence",), apply=fails),
        Spec("dns", trace, needs=("promote",))])
    assert result.outcome == "failed"
    return result.report


def interrupted(tmp_path: Path) -> dict[str, Any]:
    """A run stopped by Ctrl-C during its third step, as contract 1.1 reports it."""
    rep = copy.deepcopy(succeeded(tmp_path / "interrupted"))
    rep.update(outcome="interrupted", interrupted_by="SIGINT", follow_ups=[])
    rep["rto"].update(measured_seconds=None, met=None, method="not_recovered", ended_at=None)
    for step in rep["steps"][3:]:
        step.update(status="skipped", started_at=None, finished_at=None, seconds=None,
                    attempts=0, detail={"reason": "not started: interrupted by SIGINT",
                                        "not_started": True})
    return rep


@pytest.mark.parametrize("make", [succeeded, failed, interrupted])
def test_report_html_in_a_browser(make: Any, tmp_path: Path, browser: Chromium) -> None:
    rep = make(tmp_path)
    paths = report.write(rep, tmp_path / "out")
    html = tmp_path / "out" / "report.html"
    assert html in paths

    page = browser.load(html.as_uri())
    browser.screenshot(tmp_path / "report.png")

    assert page.errors == []
    assert page.requests == [html.as_uri()]  # nothing fetched: the file is self-contained
    assert browser.evaluate(BARS) == browser.evaluate(RECTS) == len(rep["steps"])
    labels = browser.evaluate(LABELS)
    assert all(step["id"] in labels for step in rep["steps"])
    assert browser.evaluate("document.querySelector('.outcome').textContent") == rep["outcome"]
    text = browser.evaluate("document.body.innerText")
    for figure in ("rto", "rpo"):
        assert f"{rep[figure]['target_seconds']:.1f} s" in text
    for line in rep["follow_ups"] + [s["error"] for s in rep["steps"] if s.get("error")]:
        assert line in text  # shown as text, never as markup
    png = (tmp_path / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") == 1100


def test_the_browser_reports_errors_and_fetches_when_a_page_has_them(
        tmp_path: Path, browser: Chromium) -> None:
    """The control for the checks above: a page with a console error and an outside image
    is caught by both (so their silence above means something)."""
    page_file = tmp_path / "bad.html"
    page_file.write_text("<!DOCTYPE html><title>bad</title><img src=\"http://127.0.0.1:9/x.png\">"
                         "<script>console.error('control')</script>")

    page = browser.load(page_file.as_uri())

    assert any("control" in error for error in page.errors)
    assert "http://127.0.0.1:9/x.png" in page.requests
