"""report.json (the contract's shape), report.md (for people, with a Mermaid gantt chart),
junit.xml (one testcase per step, plus the RTO and RPO targets) and report.html (one
self-contained page with an SVG timeline: report_html.py)."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from dr.redact import scrub_data
from dr.runbook import report_html

# Characters XML 1.0 cannot hold at all, not even escaped (ANSI colour codes, NUL...).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# An interrupted run exits 128 + its signal's number (130, 143): see dr/runbook/interrupt.py.
EXIT_CODES = {"succeeded": 0, "planned": 0, "failed": 1, "not_ready": 3, "targets_missed": 4,
              "interrupted": 130}


def schema() -> dict[str, Any]:
    return json.loads(resources.files("dr.schemas").joinpath("report.schema.json").read_text())


# report.html last: the first three keep their places in the paths `write` returns.
FILES = ("report.json", "report.md", "junit.xml", "report.html")


def write(report: dict[str, Any], directory: Path) -> list[Path]:
    report = scrub_data(report)
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / name for name in FILES]
    paths[0].write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    paths[1].write_text(markdown(report), encoding="utf-8")
    ET.ElementTree(junit(report)).write(paths[2], encoding="utf-8", xml_declaration=True)
    paths[3].write_text(report_html.render(report), encoding="utf-8")
    return paths


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def _rto_figures(rto: dict[str, Any]) -> str:
    """Both figures of a recovery: the recovery region's own health and the user's path."""
    figures = []
    if rto.get("method") == "public_url":
        figures.append(f"user's path {_seconds(rto['measured_seconds'])}")
    if rto.get("recovery_region_seconds") is not None:
        figures.append(f"recovery region healthy {_seconds(rto['recovery_region_seconds'])}")
    if rto.get("traffic_settled_seconds") is not None:
        figures.append(f"traffic settled {_seconds(rto['traffic_settled_seconds'])}")
    return f"; {', '.join(figures)}" if figures else ""


def _proof(rpo: dict[str, Any]) -> str:
    """How a switchover was proven: the WAL position, or the weaker ReplicaLag at 0."""
    return f", proven by {rpo['proven_by'].replace('_', ' ')}" if rpo.get("proven_by") else ""


def markdown(report: dict[str, Any]) -> str:
    rto, rpo = report["rto"], report["rpo"]
    estimate = rto.get("estimated_seconds")
    estimated = f", estimated {_seconds(estimate)}" if estimate is not None else ""
    lines = [
        f"# dr {report['command']}: {report['from_region']} → {report['to_region']}",
        "",
        f"- run: `{report['run_id']}`{' (dry run)' if report['dry_run'] else ''}",
        f"- outcome: **{report['outcome']}**",
        f"- started {report['started_at']}, finished {report['finished_at']}",
        f"- RTO: {_seconds(rto['measured_seconds'])} against {rto['target_seconds']} s "
        f"({rto['method']}{estimated}){_rto_figures(rto)}",
        f"- RPO: {_seconds(rpo['measured_seconds'])} against {rpo['target_seconds']} s "
        f"(method: {rpo['method']}{_proof(rpo)})",
    ]
    if report.get("stopped_by"):
        lines.append(f"- stopped by {report['stopped_by']}")
    for problem in report.get("problems", []):
        lines.append(f"- not ready: {problem}")
    for lost in report.get("data_lost", []):
        lines.append(f"- **data lost**: {lost}")
    for follow_up in report.get("follow_ups", []):
        lines.append(f"- follow-up: {follow_up}")
    for phase in report.get("phases", []):
        lines.append(f"- phase {phase['name']} ({phase['from_region']} → {phase['to_region']}): "
                     f"RTO {_seconds(phase['rto']['measured_seconds'])}, "
                     f"RPO {_seconds(phase['rpo']['measured_seconds'])} "
                     f"({phase['rpo']['method']}{_proof(phase['rpo'])})")
    lines += ["", "## Steps", "", "| step | status | region | seconds | attempts | note |",
              "|---|---|---|---|---|---|"]
    for step in report["steps"]:
        note = step.get("error") or step["detail"].get("reason") or step["detail"].get(
            "summary", "")
        lines.append(f"| `{step['id']}` | {step['status']} | {step['region']} | "
                     f"{'' if step['seconds'] is None else step['seconds']} | "
                     f"{step['attempts']} | {str(note).replace('|', '/')} |")
    timed = [s for s in report["steps"] if s["started_at"] and s["finished_at"]]
    if timed:
        lines += ["", "## Timeline", "", "```mermaid", "gantt",
                  f"  title {report['command']} {report['run_id']}",
                  "  dateFormat YYYY-MM-DDTHH:mm:ss.SSS", "  axisFormat %H:%M:%S"]
        section = None
        for step in timed:
            group = step["id"].split(".", 1)[0]
            if group != section:
                section = group
                lines.append(f"  section {group}")
            tag = {"failed": "crit, ", "skipped": "done, "}.get(step["status"], "")
            label = step["id"].split(".", 1)[1] if "." in step["id"] else step["id"]
            lines.append(f"  {label.replace(':', ' ')} :{tag}{step['started_at'][:-1]}, "
                         f"{step['finished_at'][:-1]}")
        lines.append("```")
    return "\n".join(lines) + "\n"


def junit(report: dict[str, Any]) -> ET.Element:
    suite = ET.Element("testsuite", name=f"dr.{report['command']}",
                       timestamp=report["started_at"])
    counts = {"tests": 0, "failures": 0, "skipped": 0}

    def case(name: str, seconds: float | None, status: str, message: str = "") -> None:
        counts["tests"] += 1
        message = _NOT_XML.sub("\ufffd", message)
        element = ET.SubElement(suite, "testcase", classname=f"dr.{report['command']}",
                                name=_NOT_XML.sub("\ufffd", name), time=f"{seconds or 0:.3f}")
        if status == "failed":
            counts["failures"] += 1
            ET.SubElement(element, "failure", message=message or "failed")
        elif status == "skipped":
            counts["skipped"] += 1
            ET.SubElement(element, "skipped", message=message or "skipped")

    for step in report["steps"]:
        case(step["id"], step["seconds"], step["status"],
             step.get("error") or step["detail"].get("reason", ""))
    for name in ("rto", "rpo"):
        target = report[name]
        status = {True: "passed", False: "failed", None: "skipped"}[target["met"]]
        case(f"{name}_target", target["measured_seconds"], status,
             f"{name.upper()} {target['measured_seconds']} s against {target['target_seconds']}"
             f" s ({target['method']})")
    for key, value in counts.items():
        suite.set(key, str(value))
    return suite
