"""`dr config render`: a dr.yaml from the two Terraform stacks' `terraform output -json`.

Each stack outputs `dr_inventory`: its region's side of every database, record, origin,
service, parameter and health check. Pairing the two sides by their names gives dr.yaml;
anything present on one side only is an error naming it, and the result is validated like
any dr.yaml before it is printed.
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
        "dns": [{"zone_id": p["zone_id"], "name": p["name"], "type": p["type"],
                 "ttl": p["ttl"], "primary": p["value"], "secondary": s["value"]}
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
    if problems:
        raise ConfigError(source, problems)
    text = yaml.safe_dump(doc, sort_keys=False)
    parse(text, source)
    return text
