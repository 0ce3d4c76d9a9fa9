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
ARN = {"type": "string", "pattern": r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{12}:.+$",
       "x-error": "must be an ARN"}
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
        {"name": NAME, "primary": RDS_ID, "secondary": RDS_ID, "heartbeat": HEARTBEAT},
        ["name", "primary", "secondary"],
    ),
    "dns": closed(
        {"zone_id": {"type": "string", "pattern": r"^(/hostedzone/)?[A-Z0-9]{1,32}$",
                     "x-error": "must be a Route 53 hosted zone id"},
         "name": TEXT,
         "type": {"enum": RECORD_TYPES},
         "ttl": NON_NEGATIVE_INT,
         "primary": TEXT, "secondary": TEXT},
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
         "interval_seconds": POSITIVE_NUMBER, "timeout_seconds": POSITIVE_NUMBER},
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
        "gameday": closed({"report_bucket": NAME,
                           "stop_alarms": {"type": "array", "items": TEXT}}, []),
    },
    ["version", "app", "environment", "regions", "targets"],
)
