"""report.json (the contract's shape), report.md (for people, with a Mermaid gantt chart) and
junit.xml (one testcase per step, plus the RTO and RPO targets)."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

# Characters XML 1.0 cannot hold at all, not even escaped (ANSI colour codes, NUL...).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

EXIT_CODES = {"succeeded": 0, "planned": 0, "failed": 1, "not_ready": 3, "targets_missed": 4}


def schema() -> dict[str, Any]:
    return json.loads(resources.files("dr.schemas").joinpath("report.schema.json").read_text())


def write(report: dict[str, Any], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "report.json", directory / "report.md", directory / "junit.xml"]
    paths[0].write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    paths[1].write_text(markdown(report), encoding="utf-8")
    ET.ElementTree(junit(report)).write(paths[2], encoding="utf-8", xml_declaration=True)
    return paths


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


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
        f"({rto['method']}{estimated})",
        f"- RPO: {_seconds(rpo['measured_seconds'])} against {rpo['target_seconds']} s "
        f"(method: {rpo['method']})",
    ]
    if report.get("stopped_by"):
        lines.append(f"- stopped by {report['stopped_by']}")
    for problem in report.get("problems", []):
        lines.append(f"- not ready: {problem}")
    for follow_up in report.get("follow_ups", []):
        lines.append(f"- follow-up: {follow_up}")
    for phase in report.get("phases", []):
        lines.append(f"- phase {phase['name']} ({phase['from_region']} → {phase['to_region']}): "
                     f"RTO {_seconds(phase['rto']['measured_seconds'])}, "
                     f"RPO {_seconds(phase['rpo']['measured_seconds'])} "
                     f"({phase['rpo']['method']})")
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
