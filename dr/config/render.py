"""`dr config render`: a dr.yaml from the two Terraform stacks' `terraform output -json`.

Each stack outputs `dr_inventory`: its region's side of every database, cache, record,
origin, service, parameter and health check, and the names both share (journal table,
runner task, routing-control cluster). Pairing the two sides by their names gives dr.yaml;
anything present on one side only, or named differently by the two, is an error naming it,
and the result is validated like any dr.yaml before it is printed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from dr.config.load import parse
from dr.errors import ConfigError

Key = Callable[[dict[str, Any]], tuple[Any, ...]]


def inventory(path: Path) -> dict[str, Any]:
    try:
        outputs = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(str(path), [f"cannot read terraform output -json: {exc}"]) from None
    found = outputs.get("dr_inventory") if isinstance(outputs, dict) else None
    if not isinstance(found, dict) or not isinstance(found.get("value"), dict):
        raise ConfigError(str(path), ["dr_inventory: required (an output of the stack)"])
    return dict(found["value"])


def _pair(section: str, primary: list[dict[str, Any]], secondary: list[dict[str, Any]],
          key: Key, problems: list[str]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    by_key = {key(item): item for item in secondary}
    pairs = []
    for item in primary:
        other = by_key.pop(key(item), None)
        if other is None:
            problems.append(f"{section} {key(item)}: in the primary stack only")
        else:
            pairs.append((item, other))
    problems.extend(f"{section} {k}: in the secondary stack only" for k in by_key)
    return pairs


def render(primary: dict[str, Any], secondary: dict[str, Any], *, rto_seconds: float,
           rpo_seconds: float, source: str = "terraform outputs") -> str:
    problems: list[str] = []

    def pairs(section: str, key: Key) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return _pair(section, list(primary.get(section) or []),
                     list(secondary.get(section) or []), key, problems)

    doc: dict[str, Any] = {
        "version": 1, "app": primary.get("app"), "environment": primary.get("environment"),
        "regions": {"primary": primary.get("region"), "secondary": secondary.get("region")},
        "targets": {"rto_seconds": rto_seconds, "rpo_seconds": rpo_seconds},
        "databases": [{"name": p["name"], "primary": p["identifier"],
                       "secondary": s["identifier"]}
                      for p, s in pairs("databases", lambda i: (i["name"],))],
        "caches": [{"name": p["name"], "global_group": p["global_group"],
                    "primary": p["replication_group_id"],
                    "secondary": s["replication_group_id"]}
                   for p, s in pairs("caches", lambda i: (i["name"],))
                   if _same(f"caches {p['name']!r}: global_group", p["global_group"],
                            s["global_group"], problems)],
        "dns": [_record(p, s, problems)
                for p, s in pairs("dns", lambda i: (i["zone_id"], i["name"], i["type"]))],
        "cdn": [{"distribution_id": p["distribution_id"], "origin_id": p["origin_id"],
                 "primary": p["domain"], "secondary": s["domain"]}
                for p, s in pairs("cdn", lambda i: (i["distribution_id"], i["origin_id"]))],
        "services": [{"cluster": p["cluster"], "service": p["service"],
                      "active_count": p["active_count"], "standby_count": p["standby_count"]}
                     for p, _ in pairs("services", lambda i: (i["cluster"], i["service"]))],
        "parameters": [{"name": p["name"], "primary": p["value"], "secondary": s["value"]}
                       for p, s in pairs("parameters", lambda i: (i["name"],))],
        "health": [{"name": p["name"], "primary": p["url"], "secondary": s["url"],
                    "expect_status": p.get("expect_status", 200)}
                   for p, s in pairs("health", lambda i: (i["name"],))],
    }
    if (primary.get("app"), primary.get("environment")) != \
            (secondary.get("app"), secondary.get("environment")):
        problems.append("app/environment differ between the two stacks")
    if primary.get("sns_topic_arn") and secondary.get("sns_topic_arn"):
        doc["notify"] = {"sns_topic_arn": {"primary": primary["sns_topic_arn"],
                                           "secondary": secondary["sns_topic_arn"]}}
    if primary.get("lock_table"):
        doc["lock"] = {"dynamodb_table": primary["lock_table"]}
    doc.update(_shared(primary, secondary, problems))
    if problems:
        raise ConfigError(source, problems)
    text = yaml.safe_dump(doc, sort_keys=False)
    parse(text, source)
    return text


def _same(what: str, primary: Any, secondary: Any, problems: list[str]) -> bool:
    """Whether the two stacks agree on a value both must name alike; if not, a problem."""
    if primary != secondary:
        problems.append(f"{what} differs between the stacks ({primary!r} in the primary, "
                        f"{secondary!r} in the secondary)")
        return False
    return True


def _record(p: dict[str, Any], s: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    record = {"zone_id": p["zone_id"], "name": p["name"], "type": p["type"], "ttl": p["ttl"],
              "primary": p["value"], "secondary": s["value"]}
    controls = {"primary": p.get("routing_control"), "secondary": s.get("routing_control")}
    if all(controls.values()):
        record["routing_control"] = controls
    elif any(controls.values()):
        side = "primary" if controls["primary"] else "secondary"
        problems.append(f"dns {p['name']!r}: routing_control in the {side} stack only "
                        "(apply the other stack again: the secondary copies the primary's)")
    return record


def _shared(primary: dict[str, Any], secondary: dict[str, Any],
            problems: list[str]) -> dict[str, Any]:
    """What both stacks name alike: the routing-control cluster (the primary's, which the
    secondary copies), the shared journal's table and the runner task (one name in each
    region, each side's own subnets)."""
    shared: dict[str, Any] = {}
    cluster = primary.get("routing_control_cluster")
    if cluster and _same("routing_control_cluster", cluster,
                         secondary.get("routing_control_cluster"), problems):
        shared["routing_control_cluster"] = {"endpoints": [
            {"region": e["region"], "url": e["url"]} for e in cluster["endpoints"]]}
    table = primary.get("journal_table")
    if table and _same("journal_table", table, secondary.get("journal_table"), problems):
        shared["journal"] = {"dynamodb_table": table}
    p, s = primary.get("runner"), secondary.get("runner")
    if bool(p) != bool(s):
        problems.append("runner: in the " + ("primary" if p else "secondary") + " stack only "
                        "(set runner_image in the primary, gameday_image in the secondary)")
    elif p and s and "journal" not in shared:
        problems.append("runner: the stacks name no journal_table (dr failover --remote "
                        "follows the run through the shared journal)")
    elif p and s and all([_same(f"runner.{key}", p[key], s[key], problems)
                          for key in ("cluster", "task_definition", "container")]):
        shared["runner"] = {
            "cluster": p["cluster"], "task_definition": p["task_definition"],
            "container": p["container"],
            "subnets": {"primary": p["subnets"], "secondary": s["subnets"]},
            "security_groups": {"primary": p["security_groups"],
                                "secondary": s["security_groups"]}}
    return shared
