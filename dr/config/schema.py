"""JSON Schema of dr.yaml. Closed everywhere: an unknown key is an error, as the contract says."""

from __future__ import annotations

from typing import Any

NAME = {"type": "string", "minLength": 1, "pattern": r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$",
        "x-error": "must be a name of letters, digits, '.', '_', '-' or '/'"}
TEXT = {"type": "string", "minLength": 1}
URL = {"type": "string", "pattern": r"^https?://[^\s/:]+(:[0-9]{1,5})?(/\S*)?$",
       "x-error": "must be an http:// or https:// URL"}
RDS_ID = {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*$", "maxLength": 63,
          "x-error": "must be an RDS instance identifier (letter first; letters, digits, "
                     "single hyphens; at most 63)"}
# An ElastiCache replication group id, or a global datastore's id suffix: letter first;
# letters, digits, single hyphens; at most 40 (CreateReplicationGroup's constraints).
CACHE_ID = {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*$",
            "maxLength": 40,
            "x-error": "must be an ElastiCache replication group id (letter first; letters, "
                       "digits, single hyphens; at most 40)"}
ARN = {"type": "string", "pattern": r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{12}:.+$",
       "x-error": "must be an ARN"}
ROUTING_CONTROL_ARN = {
    "type": "string",
    "pattern": r"^arn:aws[a-z-]*:route53-recovery-control::[0-9]{12}:controlpanel/[a-z0-9]+"
               r"/routingcontrol/[a-z0-9]+$",
    "x-error": "must be a routing control ARN "
               "(arn:aws:route53-recovery-control::ACCOUNT:controlpanel/ID/routingcontrol/ID)"}
# A cluster endpoint: https, or http on a loopback address (the lab's cluster).
CLUSTER_URL = {"type": "string",
               "pattern": r"^(https://[^\s/:]+(:[0-9]{1,5})?|http://127\.[0-9.]+:[0-9]{1,5})"
                          r"(/\S*)?$",
               "x-error": "must be an https:// URL (http:// only on a loopback address)"}
NON_NEGATIVE_INT = {"type": "integer", "minimum": 0}
POSITIVE_NUMBER = {"type": "number", "exclusiveMinimum": 0}
RECORD_TYPES = ["A", "AAAA", "CNAME", "TXT", "MX", "NS", "SRV", "CAA", "PTR", "SPF", "NAPTR", "DS"]


def closed(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required,
            "additionalProperties": False}


def sided(value: dict[str, Any]) -> dict[str, Any]:
    return closed({"primary": value, "secondary": value}, ["primary", "secondary"])


HEARTBEAT = {
    **closed({"table": NAME, "secret": sided(ARN), "dsn": sided(TEXT)}, ["table"]),
    "oneOf": [{"required": ["secret"]}, {"required": ["dsn"]}],
    "x-error": "needs exactly one of 'secret' or 'dsn'",
}

SECTIONS: dict[str, dict[str, Any]] = {
    "databases": closed(
        {"name": NAME, "primary": RDS_ID, "secondary": RDS_ID, "heartbeat": HEARTBEAT,
         "switchover_timeout_seconds": POSITIVE_NUMBER},
        ["name", "primary", "secondary"],
    ),
    "caches": closed(
        {"name": NAME, "global_group": CACHE_ID, "primary": CACHE_ID, "secondary": CACHE_ID},
        ["name", "global_group", "primary", "secondary"],
    ),
    "dns": closed(
        {"zone_id": {"type": "string", "pattern": r"^(/hostedzone/)?[A-Z0-9]{1,32}$",
                     "x-error": "must be a Route 53 hosted zone id"},
         "name": TEXT,
         "type": {"enum": RECORD_TYPES},
         "ttl": NON_NEGATIVE_INT,
         "primary": TEXT, "secondary": TEXT,
         "routing_control": sided(ROUTING_CONTROL_ARN)},
        ["zone_id", "name", "type", "ttl", "primary", "secondary"],
    ),
    "cdn": closed(
        {"distribution_id": {"type": "string", "pattern": r"^[A-Z0-9]{1,32}$",
                             "x-error": "must be a CloudFront distribution id"},
         "origin_id": TEXT, "primary": TEXT, "secondary": TEXT},
        ["distribution_id", "origin_id", "primary", "secondary"],
    ),
    "services": closed(
        {"cluster": NAME, "service": NAME, "active_count": NON_NEGATIVE_INT,
         "standby_count": NON_NEGATIVE_INT,
         "min_running_fraction": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}},
        ["cluster", "service", "active_count", "standby_count"],
    ),
    "parameters": closed(
        {"name": {"type": "string", "pattern": r"^/?[A-Za-z0-9_.\-/]+$",
                  "x-error": "must be an SSM parameter name"},
         "primary": TEXT, "secondary": TEXT},
        ["name", "primary", "secondary"],
    ),
    "health": closed(
        {"name": NAME, "primary": URL, "secondary": URL,
         "expect_status": {"type": "integer", "minimum": 100, "maximum": 599},
         "consecutive": {"type": "integer", "minimum": 1},
         "interval_seconds": POSITIVE_NUMBER, "timeout_seconds": POSITIVE_NUMBER,
         "public": URL, "region_key": TEXT},
        ["name", "primary", "secondary"],
    ),
}

SCHEMA: dict[str, Any] = closed(
    {
        "version": {"const": 1, "x-error": "must be 1"},
        "app": NAME,
        "environment": NAME,
        "regions": closed({"primary": TEXT, "secondary": TEXT}, ["primary", "secondary"]),
        "targets": closed({"rto_seconds": POSITIVE_NUMBER, "rpo_seconds":
                           {"type": "number", "minimum": 0}},
                          ["rto_seconds", "rpo_seconds"]),
        **{name: {"type": "array", "items": item} for name, item in SECTIONS.items()},
        "notify": closed({"sns_topic_arn": sided(ARN)}, ["sns_topic_arn"]),
        "lock": closed({"dynamodb_table": NAME, "lease_seconds": {"type": "integer",
                                                                  "minimum": 10}},
                       ["dynamodb_table"]),
        "journal": closed({"dynamodb_table": NAME}, ["dynamodb_table"]),
        "runner": closed(
            {"cluster": NAME, "task_definition": NAME, "container": NAME,
             "subnets": sided({"type": "array", "minItems": 1, "items": TEXT}),
             "security_groups": sided({"type": "array", "items": TEXT})},
            ["cluster", "task_definition", "subnets"]),
        "routing_control_cluster": closed(
            {"endpoints": {"type": "array", "minItems": 1, "items": closed(
                {"region": TEXT, "url": CLUSTER_URL}, ["region", "url"])}},
            ["endpoints"]),
        "gameday": closed({"report_bucket": NAME,
                           "stop_alarms": {"type": "array", "items": TEXT}}, []),
    },
    ["version", "app", "environment", "regions", "targets"],
)
