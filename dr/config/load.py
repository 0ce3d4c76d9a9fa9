"""Load dr.yaml: YAML with line numbers, JSON Schema with key paths, then cross-field checks.

Every problem is collected and reported at once, each naming its key path.
"""

from __future__ import annotations

import math
import os
from collections.abc import Hashable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from dr import redact
from dr.config.model import (
    Cache,
    ClusterEndpoint,
    Config,
    Database,
    Distribution,
    DnsRecord,
    Gameday,
    HealthCheck,
    Heartbeat,
    JournalTable,
    Lock,
    Notify,
    Parameter,
    Regions,
    Runner,
    Service,
    Sided,
    Targets,
)
from dr.config.schema import SCHEMA
from dr.errors import ConfigError, UsageError

DEFAULT_PATH = "dr.yaml"

TYPE_WORDS = {"string": "a string", "integer": "an integer", "number": "a number",
              "array": "a list", "object": "a mapping", "boolean": "true or false"}


def default_path() -> str:
    """$DR_CONFIG, or ./dr.yaml when it is not set. Set but empty is an error (an unset
    shell variable passed on), not a silent fall back to whatever ./dr.yaml is here."""
    value = os.environ.get("DR_CONFIG")
    if value is None:
        return DEFAULT_PATH
    if not value.strip():
        raise UsageError("DR_CONFIG is set but empty", hint="unset it, or name a dr.yaml")
    return value


def load(path: str | os.PathLike[str]) -> Config:
    source = str(path)
    file = Path(path)
    if not file.is_file():
        raise ConfigError(source, ["file not found" if not file.exists() else "not a file"])
    size = file.stat().st_size
    if size > MAX_BYTES:
        raise ConfigError(source, [f"{size} bytes: larger than any estate's dr.yaml "
                                   f"(at most {MAX_BYTES // 1024} KiB)"])
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, [f"cannot read: {exc}"]) from None
    return parse(text, source)


def parse(text: str, source: str = DEFAULT_PATH) -> Config:
    document = _read_yaml(text, source)
    problems = list(_schema_problems(document))
    problems += [p for p in _cross_field_problems(document) if p not in problems]
    if problems:
        raise ConfigError(source, problems)
    return _build(document, source)


MERGE_TAG = "tag:yaml.org,2002:merge"


# A dr.yaml for 500 records and 50 databases is about 150 KiB; parsing 16 MiB took a minute.
MAX_BYTES = 1024 * 1024
# Nodes once every alias is expanded: anchors and merges are fine, a "billion laughs" is not.
MAX_EXPANDED_NODES = 200_000


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice in one mapping (PyYAML keeps the last), and
    a document whose aliases expand it beyond `MAX_EXPANDED_NODES` (checked on the composed
    node graph, before anything is built from it)."""

    def compose_document(self) -> yaml.Node | None:
        root = super().compose_document()
        if root is not None and _expanded_size(root, {}) > MAX_EXPANDED_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"aliases expand the document beyond {MAX_EXPANDED_NODES} "
                "values (a YAML alias bomb?)", root.start_mark)
        return root


def _expanded_size(node: yaml.Node, known: dict[int, int]) -> int:
    """Nodes `node` stands for with aliases expanded; shared nodes are counted once per
    use, but computed once (memoised by identity), so a bomb is measured in linear time."""
    if id(node) in known:
        return known[id(node)]
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, known) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, known) + _expanded_size(v, known) for k, v in node.value)
    known[id(node)] = size
    return size


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == MERGE_TAG:  # `<<: *anchor`; its keys may be overridden, not duplicated
            continue
        key = loader.construct_object(key_node)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain value, not a list or mapping",
                key_node.start_mark)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.reader.ReaderError as exc:  # a character YAML forbids: a position, not a mark
        line = text.count("\n", 0, exc.position) + 1
        first = str(exc).splitlines()[0]
        raise ConfigError(source, [f"line {line}: YAML syntax error: {first}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [f"{where}YAML syntax error: {problem}"]) from None
    if document is None:
        raise ConfigError(source, ["empty file (expected a mapping with version, app, ...)"])
    if not isinstance(document, dict):
        raise ConfigError(source, ["top level must be a mapping of keys to values"])
    return document


def key_path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _schema_problems(document: Mapping[str, Any]) -> Iterator[str]:
    from jsonschema import Draft202012Validator, validators

    # JSON Schema counts 4.0 as an integer; boto3 does not (desiredCount=4.0 fails
    # mid-failover), so an integer here is an int.
    strict = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool))
    validator = validators.extend(Draft202012Validator, type_checker=strict)(SCHEMA)
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.path])
    for error in errors:
        path = key_path(error.absolute_path)
        kind = error.validator
        if kind == "required":
            missing = error.message.split("'")[1]
            yield f"{_join(path, missing)}: required"
        elif kind == "additionalProperties":
            allowed = set(error.schema.get("properties", {}))
            for key in sorted(set(error.instance) - allowed, key=str):
                yield f"{_join(path, str(key))}: unknown key"
        elif kind == "type":
            yield f"{path}: must be {TYPE_WORDS.get(error.validator_value, error.validator_value)}"
        elif kind == "minimum":
            yield f"{path}: must be >= {error.validator_value}"
        elif kind == "exclusiveMinimum":
            yield f"{path}: must be > {error.validator_value}"
        elif kind == "maximum":
            yield f"{path}: must be <= {error.validator_value}"
        elif kind == "enum":
            yield f"{path}: must be one of {', '.join(map(str, error.validator_value))}"
        elif kind == "minLength":
            yield f"{path}: must not be empty"
        elif "x-error" in error.schema:
            yield f"{path}: {error.schema['x-error']}"
        else:
            yield f"{path}: {error.message}"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _listing(value: Any) -> list[Mapping[str, Any]]:
    return [i for i in value if isinstance(i, Mapping)] if isinstance(value, list) else []


def _cross_field_problems(doc: Mapping[str, Any]) -> Iterator[str]:
    """Checks JSON Schema cannot express; each runs only on the parts that are well formed,
    so that they add to the schema's problems instead of waiting for them to be fixed."""
    from dr.aws.regions import known_regions

    regions = {role: value for role, value in _mapping(doc.get("regions")).items()
               if role in ("primary", "secondary") and isinstance(value, str)}
    for role, region in regions.items():
        if region not in known_regions():
            yield f"regions.{role}: unknown AWS region {region!r}"
    if len(regions) == 2 and regions["primary"] == regions["secondary"]:
        yield "regions.secondary: must differ from regions.primary"

    yield from _non_finite(doc, [])

    unique_by = {
        "databases": ("name",), "caches": ("name",), "dns": ("zone_id", "name", "type"),
        "cdn": ("distribution_id", "origin_id"), "services": ("cluster", "service"),
        "parameters": ("name",), "health": ("name",),
    }
    for section, fields in unique_by.items():
        seen: dict[tuple[str, ...], int] = {}
        for index, item in enumerate(_listing(doc.get(section))):
            values = [item.get(f) for f in fields]
            if not all(isinstance(v, str) for v in values):
                continue  # the schema reports the missing field; two gaps are no duplicate
            # DNS names compare without case or the root dot; SSM and ECS names are exact.
            key = tuple(v.rstrip(".").lower() if section == "dns" else v for v in values)
            if key in seen:
                yield (f"{section}[{index}]: duplicates {section}[{seen[key]}] "
                       f"(same {', '.join(fields)})")
            seen.setdefault(key, index)

    if "runner" in doc and "journal" not in doc:
        yield ("runner: needs journal: (dr failover --remote follows the run through the "
               "shared journal)")
    controlled = [i for i, r in enumerate(_listing(doc.get("dns"))) if "routing_control" in r]
    if controlled and "routing_control_cluster" not in doc:
        yield (f"routing_control_cluster: required when dns[{controlled[0]}] has "
               "routing_control (the cluster endpoints its controls are set through)")
    for index in controlled:
        pair = _mapping(_listing(doc.get("dns"))[index].get("routing_control"))
        if pair.get("primary") and pair.get("primary") == pair.get("secondary"):
            yield f"dns[{index}].routing_control.secondary: must differ from its primary"

    arns: list[tuple[str, Mapping[str, Any]]] = [
        ("notify.sns_topic_arn", _mapping(_mapping(doc.get("notify")).get("sns_topic_arn")))]
    for index, db in enumerate(_listing(doc.get("databases"))):
        secret = _mapping(_mapping(db.get("heartbeat")).get("secret"))
        arns.append((f"databases[{index}].heartbeat.secret", secret))
    for path, pair in arns:
        for role, region in regions.items():
            arn = pair.get(role)
            if isinstance(arn, str) and arn.count(":") >= 5 and arn.split(":")[3] != region:
                yield (f"{path}.{role}: ARN is in region {arn.split(':')[3]!r}, "
                       f"not regions.{role} {region!r}")


def _non_finite(value: Any, path: list[Any]) -> Iterator[str]:
    """YAML's .nan and .inf pass every JSON Schema bound (NaN compares false to all)."""
    if isinstance(value, float) and not math.isfinite(value):
        yield f"{key_path(path)}: must be a finite number"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _non_finite(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, [*path, index])


def _remembered_dsns(dsns: Mapping[str, str] | None) -> Mapping[str, str] | None:
    """DSNs in dr.yaml carry passwords: from here on no output of dr may show them."""
    for dsn in (dsns or {}).values():
        redact.remember_dsn(dsn)
    return dsns


def _runner(item: Mapping[str, Any]) -> Runner:
    groups = item.get("security_groups")
    return Runner(item["cluster"], item["task_definition"],
                  Sided(tuple(item["subnets"]["primary"]), tuple(item["subnets"]["secondary"])),
                  Sided(tuple(groups["primary"]), tuple(groups["secondary"])) if groups else None,
                  item.get("container", "dr"))


def _sided(value: Mapping[str, str] | None) -> Sided[str] | None:
    return Sided(value["primary"], value["secondary"]) if value else None


def _build(doc: Mapping[str, Any], source: str) -> Config:
    def items(section: str) -> list[dict[str, Any]]:
        return list(doc.get(section) or ())

    def database(item: dict[str, Any]) -> Database:
        hb = item.get("heartbeat")
        heartbeat = (Heartbeat(table=hb["table"], secret=_sided(hb.get("secret")),
                               dsn=_sided(_remembered_dsns(hb.get("dsn")))) if hb else None)
        return Database(item["name"], item["primary"], item["secondary"], heartbeat,
                        **({"switchover_timeout_seconds": item["switchover_timeout_seconds"]}
                           if "switchover_timeout_seconds" in item else {}))

    gameday = doc.get("gameday")
    return Config(
        version=doc["version"],
        app=doc["app"],
        environment=doc["environment"],
        regions=Regions(**doc["regions"]),
        targets=Targets(**doc["targets"]),
        databases=tuple(database(i) for i in items("databases")),
        caches=tuple(Cache(**i) for i in items("caches")),
        dns=tuple(DnsRecord(**{**i, "routing_control": _sided(i.get("routing_control"))})
                  for i in items("dns")),
        cdn=tuple(Distribution(**i) for i in items("cdn")),
        services=tuple(Service(**i) for i in items("services")),
        parameters=tuple(Parameter(**i) for i in items("parameters")),
        health=tuple(HealthCheck(**i) for i in items("health")),
        notify=Notify(_sided(doc["notify"]["sns_topic_arn"])) if "notify" in doc else None,
        lock=Lock(**doc["lock"]) if "lock" in doc else None,
        gameday=(Gameday(gameday.get("report_bucket"), tuple(gameday.get("stop_alarms", ())))
                 if gameday else None),
        journal=JournalTable(**doc["journal"]) if "journal" in doc else None,
        runner=_runner(doc["runner"]) if "runner" in doc else None,
        routing_control_cluster=tuple(
            ClusterEndpoint(**e) for e in _mapping(doc.get("routing_control_cluster")).get(
                "endpoints", ())),
        source=source,
    )
