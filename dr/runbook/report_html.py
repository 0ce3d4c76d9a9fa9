"""report.html: the report for people who would rather look than read (auditors, managers,
the team after a game day). One self-contained file: inline CSS, the timeline as inline SVG,
no script, and a Content-Security-Policy that forbids every fetch, so it opens the same from
a laptop, an S3 console or an archive years later.

It shows the outcome; RTO and RPO against their targets and how each was measured; a
timeline with one bar per step; the steps; what changed; the follow-ups; and the problems.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from dr import __version__
from dr.runbook.journal import iso, parse_iso

RTO_METHODS = {
    "health_checks": "from {start} until every health check of the recovery region passed "
                     "({end})",
    "public_url": "from {start} until the public URL answered from the recovery region, "
                  "resolved as a client resolves it ({end})",
    "last_step": "from {start} until the last step on the recovery path had verified ({end}); "
                 "no health checks are configured",
    "estimate": "not measured (dry run): the critical path of the steps' typical durations",
    "not_recovered": "not measured: the recovery did not complete",
}
RPO_METHODS = {
    "heartbeat": "the reference time minus the newest heartbeat row found on the promoted "
                 "database: writes after it were lost",
    "replica_lag": "the replica's largest ReplicaLag over the five minutes before promotion "
                   "(a bound from the metric, not the data)",
    "switchover": "a planned switchover: the replica had applied every committed transaction "
                  "before it was promoted",
    "none": "not measured: no heartbeat and no replica lag could be read",
}
REFERENCES = {"incident_start": "the incident start", "fenced_at": "the fence",
              "promotion_started_at": "the start of the promotion"}
COLOURS = {"succeeded": "#1a7f37", "planned": "#0969da", "skipped": "#9a6700",
           "failed": "#cf222e", "rolled_back": "#8250df"}

# Geometry of the timeline, in SVG user units (the SVG scales to the page's width).
WIDTH, ROW, TOP, AXIS_GAP = 960, 22, 28, 8

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;
max-width:1000px;margin:2em auto;padding:0 1em}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.6em 0 .5em;
border-bottom:1px solid #d0d7de;padding-bottom:.2em}
.outcome{display:inline-block;padding:.15em .6em;border-radius:1em;color:#fff;
font-weight:600}
.succeeded,.planned{background:#1a7f37}.planned{background:#0969da}
.failed,.not_ready,.interrupted{background:#cf222e}.targets_missed{background:#9a6700}
.meta{color:#59636e}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3em .5em;border-bottom:1px solid #d8dee4;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;white-space:nowrap}td.nowrap{white-space:nowrap}
code{font-size:.92em}
.met{color:#1a7f37;font-weight:600}.missed{color:#cf222e;font-weight:600}
.unknown{color:#9a6700;font-weight:600}ul.problems li{color:#cf222e}
svg.timeline{width:100%;height:auto}svg text{font:11px system-ui,sans-serif;fill:#1f2328}
svg line.grid{stroke:#d8dee4}svg line.marker{stroke:#cf222e;stroke-dasharray:4 3}
svg line.recovered{stroke:#1a7f37;stroke-dasharray:4 3}
"""


def render(report: dict[str, Any]) -> str:
    title = (f"dr {report['command']} {report['from_region']} → {report['to_region']}: "
             f"{report['outcome']}")
    body = [_header(report), _targets(report), _phases(report), _timeline(report),
            _steps(report), _changed(report), _follow_ups(report), _problems(report)]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<link rel=\"icon\" href=\"data:,\">\n"
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(part for part in body if part)
        + f"\n<p class=\"meta\">Written by dr {escape(__version__)} from report.json.</p>\n"
        "</body></html>\n")


def _header(report: dict[str, Any]) -> str:
    outcome = report["outcome"]
    lines = [f"<h1>dr {escape(report['command'])}: {escape(report['from_region'])} → "
             f"{escape(report['to_region'])}</h1>",
             f"<p><span class=\"outcome {escape(outcome)}\">{escape(outcome)}</span> "
             f"run <code>{escape(report['run_id'])}</code>"
             f"{' (dry run: nothing was sent)' if report.get('dry_run') else ''}</p>",
             f"<p class=\"meta\">started {escape(report['started_at'])}, finished "
             f"{escape(report['finished_at'])}"]
    if report.get("incident_start"):
        lines[-1] += f"; incident started {escape(report['incident_start'])}"
    lines[-1] += "</p>"
    if report.get("interrupted_by"):
        lines.append(f"<p>Interrupted by {escape(report['interrupted_by'])}: continue with "
                     f"<code>dr {escape(report['command'])} --resume "
                     f"{escape(report['run_id'])}</code>.</p>")
    if report.get("stopped_by"):
        lines.append(f"<p>Stopped by {escape(report['stopped_by'])}.</p>")
    return "\n".join(lines)


def _targets(report: dict[str, Any]) -> str:
    rto, rpo = report["rto"], report["rpo"]
    start, end = rto.get("started_at") or "the run's start", rto.get("ended_at") or "—"
    rto_how = RTO_METHODS.get(rto.get("method", ""), str(rto.get("method"))).format(
        start=start, end=end)
    if rto.get("method") == "estimate":
        rto_how += f": {_seconds(rto.get('estimated_seconds'))}"
    if rto.get("method") == "public_url" and rto.get("recovery_region_seconds") is not None:
        rto_how += (f"; the recovery region's own health checks passed after "
                    f"{_seconds(rto['recovery_region_seconds'])}")
    if rto.get("recovery_region_seconds") is not None:
        rto_how += (f"; every health check of the recovery region passed after "
                    f"{_seconds(rto['recovery_region_seconds'])}")
    if rto.get("traffic_settled_seconds") is not None:
        rto_how += (f"; the last traffic change was in effect after "
                    f"{_seconds(rto['traffic_settled_seconds'])}")
    rpo_how = RPO_METHODS.get(rpo.get("method", ""), str(rpo.get("method")))
    rows = [_target_row("RTO", rto, rto_how), _target_row("RPO", rpo, rpo_how)]
    for step, database in (rpo.get("databases") or {}).items():
        reference = REFERENCES.get(database.get("reference", ""))
        how = f"{database.get('method')}" + (f", from {reference}" if reference else "")
        rows.append(f"<tr><td>RPO of <code>{escape(step)}</code></td>"
                    f"<td class=\"num\">{_seconds(database.get('seconds'))}</td><td></td>"
                    f"<td></td><td>{escape(how)}</td></tr>")
    return ("<h2>Targets</h2>\n<table><tr><th></th><th>measured</th><th>target</th>"
            "<th>met</th><th>how it was measured</th></tr>\n" + "\n".join(rows) + "</table>")


def _target_row(name: str, figure: dict[str, Any], how: str) -> str:
    met = {True: ("met", "met"), False: ("missed", "missed"),
           None: ("not measured", "unknown")}[figure.get("met")]
    return (f"<tr><td>{name}</td><td class=\"num\">{_seconds(figure.get('measured_seconds'))}"
            f"</td><td class=\"num\">{_seconds(figure['target_seconds'])}</td>"
            f"<td class=\"{met[1]}\">{met[0]}</td><td>{escape(how)}</td></tr>")


def _phases(report: dict[str, Any]) -> str:
    if not report.get("phases"):
        return ""
    rows = [f"<tr><td>{escape(p['name'])}</td><td>{escape(p['from_region'])} → "
            f"{escape(p['to_region'])}</td><td class=\"num\">"
            f"{_seconds(p['rto'].get('measured_seconds'))}</td><td class=\"num\">"
            f"{_seconds(p['rpo'].get('measured_seconds'))}</td>"
            f"<td>{escape(str(p['rpo'].get('method')))}</td></tr>" for p in report["phases"]]
    return ("<h2>Phases</h2>\n<table><tr><th>phase</th><th>direction</th><th>RTO</th>"
            "<th>RPO</th><th>RPO method</th></tr>\n" + "\n".join(rows) + "</table>")


def _timeline(report: dict[str, Any]) -> str:
    """One bar per step on a common time axis; a step that never started has a row and an
    empty bar. The RTO clock's start and the moment users were served again are marked."""
    steps = report["steps"]
    if not steps:
        return ""
    spans = [(_moment(s.get("started_at")), _moment(s.get("finished_at"))) for s in steps]
    clock = _moment(report["rto"].get("started_at"))
    recovered = _moment(report["rto"].get("ended_at"))
    moments = [m for span in spans for m in span if m] + [m for m in (clock, recovered) if m]
    origin = min(moments, default=None)
    span = max((max(moments) - origin).total_seconds(), 1.0) if origin else 1.0
    label_width = min(max(len(s["id"]) for s in steps) * 6.6 + 12, 380)
    scale = (WIDTH - label_width - 70) / span
    height = TOP + ROW * len(steps) + AXIS_GAP

    def x(moment: datetime) -> float:
        assert origin is not None
        return label_width + (moment - origin).total_seconds() * scale

    parts = [f"<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
             f"viewBox=\"0 0 {WIDTH} {height}\" aria-label=\"timeline of the steps\">"]
    tick = _tick(span)
    for n in range(int(span // tick) + 1):
        at = label_width + n * tick * scale
        parts.append(f"<line class=\"grid\" x1=\"{at:.1f}\" y1=\"{TOP - 6}\" x2=\"{at:.1f}\" "
                     f"y2=\"{height - AXIS_GAP}\"/><text x=\"{at:.1f}\" y=\"{TOP - 10}\" "
                     f"text-anchor=\"middle\">+{_tick_label(n * tick)}</text>")
    for row, (step, (start, end)) in enumerate(zip(steps, spans, strict=True)):
        y = TOP + row * ROW
        status = step["status"]
        colour = COLOURS.get(status, "#59636e")
        parts.append(f"<text x=\"{label_width - 8}\" y=\"{y + 15}\" text-anchor=\"end\">"
                     f"{escape(step['id'])}</text>")
        tip = f"{step['id']}: {status}"
        if start and end:
            left, width = x(start), max((end - start).total_seconds() * scale, 2.0)
            tip += f", {_seconds(step.get('seconds'))}"
            parts.append(f"<rect class=\"bar {escape(status)}\" x=\"{left:.1f}\" y=\"{y + 4}\" "
                         f"width=\"{width:.1f}\" height=\"{ROW - 8}\" rx=\"2\" fill=\"{colour}\">"
                         f"<title>{escape(tip)}</title></rect>")
            parts.append(f"<text x=\"{left + width + 4:.1f}\" y=\"{y + 15}\">"
                         f"{escape(_seconds(step.get('seconds')))}</text>")
        else:
            note = step["detail"].get("reason") or "not started"
            parts.append(f"<rect class=\"bar {escape(status)}\" x=\"{label_width:.1f}\" "
                         f"y=\"{y + 4}\" width=\"0\" height=\"{ROW - 8}\" fill=\"{colour}\">"
                         f"<title>{escape(tip)}</title></rect><text x=\"{label_width + 4:.1f}\""
                         f" y=\"{y + 15}\" fill=\"{colour}\">{escape(note)}</text>")
    for moment, css, what in ((clock, "marker", "RTO clock starts"),
                              (recovered, "recovered", "users served again")):
        if moment and origin:
            parts.append(f"<line class=\"{css}\" x1=\"{x(moment):.1f}\" y1=\"{TOP - 6}\" "
                         f"x2=\"{x(moment):.1f}\" y2=\"{height - AXIS_GAP}\">"
                         f"<title>{what}: {escape(iso(moment) or '')}</title></line>")
    parts.append("</svg>")
    legend = ("<p class=\"meta\">One bar per step, from its first start to its end. Dashed: "
              "<span style=\"color:#cf222e\">the RTO clock's start</span> and "
              "<span style=\"color:#1a7f37\">the moment users were served again</span>.</p>")
    return "<h2>Timeline</h2>\n" + "".join(parts) + "\n" + legend


def _steps(report: dict[str, Any]) -> str:
    rows = []
    for step in report["steps"]:
        detail = step["detail"]
        note = step.get("error") or detail.get("reason") or detail.get("plan", "")
        if detail.get("already_done"):
            note = "already done" + (f"; {note}" if note else "")
        rows.append(f"<tr><td><code>{escape(step['id'])}</code></td><td style=\"color:"
                    f"{COLOURS.get(step['status'], '#59636e')}\">{escape(step['status'])}</td>"
                    f"<td class=\"nowrap\">{escape(str(step.get('region') or ''))}</td>"
                    f"<td class=\"num\">"
                    f"{_seconds(step.get('seconds'))}</td><td class=\"num\">{step['attempts']}"
                    f"</td><td>{escape(str(note))}</td></tr>")
    return ("<h2>Steps</h2>\n<table><tr><th>step</th><th>status</th><th>region</th>"
            "<th>time</th><th>attempts</th><th>note</th></tr>\n" + "\n".join(rows)
            + "</table>")


def _changed(report: dict[str, Any]) -> str:
    if "changed" not in report:
        return ""
    items = "".join(f"<li><code>{escape(str(c))}</code></li>" for c in report["changed"])
    return ("<h2>What changed</h2>\n"
            + (f"<ul>{items}</ul>" if items else "<p>Nothing: no step changed anything.</p>"))


def _follow_ups(report: dict[str, Any]) -> str:
    items = report.get("follow_ups") or []
    listed = "".join(f"<li>{escape(str(f))}</li>" for f in items)
    return ("<h2>Follow-ups</h2>\n"
            + (f"<ul>{listed}</ul>" if items else "<p>None: nothing was left to do by hand.</p>"))


def _problems(report: dict[str, Any]) -> str:
    items = [f"not ready: {p}" for p in report.get("problems") or []]
    items += [f"{s['id']}: {s['error']}" for s in report["steps"] if s.get("error")]
    items += [f"accepted data loss: {p}" for p in report.get("accepted_data_loss") or []]
    items += [f"warning: {w}" for w in report.get("warnings") or []]
    items += [f"not published: {e}" for e in (report.get("published") or {}).get("errors", [])]
    listed = "".join(f"<li>{escape(str(p))}</li>" for p in items)
    return ("<h2>Problems</h2>\n"
            + (f"<ul class=\"problems\">{listed}</ul>" if items else "<p>None.</p>"))


def _moment(text: str | None) -> datetime | None:
    return parse_iso(text) if text else None


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def _tick(span: float) -> float:
    """A round interval giving about 5 to 10 ticks over `span` seconds."""
    for unit in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if span / unit <= 10:
            return float(unit)
    return 3600.0 * (span // 36000 + 1)


def _tick_label(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:g}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m" if not secs else f"{minutes}m{secs:02}s"
