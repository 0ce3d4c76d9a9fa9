"""A configuration of placeholders: one item per section, every value a `<PLACEHOLDER>`.

The runbook documents and the IAM policy are generated from the step graphs, and a graph is
built from a configuration. Without a real dr.yaml this one stands in, so that every step
type appears once and the documents say `<DB_PRIMARY_ID>` where an operator's value goes.
It is never validated (its values would not pass) and never used to call AWS.
"""

from __future__ import annotations

from typing import Any

from dr.config.model import (
    Cache,
    ClusterEndpoint,
    Config,
    Database,
    Distribution,
    DnsRecord,
    HealthCheck,
    Lock,
    Notify,
    Parameter,
    Regions,
    Service,
    Sided,
    Targets,
)

SOURCE = "<placeholders>"


def _text(name: str) -> Any:
    """A placeholder where the model declares a number: the documents only print it."""
    return f"<{name}>"


def placeholder_config() -> Config:
    return Config(
        app="<APP>",
        environment="<ENVIRONMENT>",
        regions=Regions("<PRIMARY_REGION>", "<SECONDARY_REGION>"),
        targets=Targets(rto_seconds=_text("RTO_SECONDS"), rpo_seconds=_text("RPO_SECONDS")),
        databases=(Database("DB", "<DB_PRIMARY_ID>", "<DB_SECONDARY_ID>"),),
        caches=(Cache("CACHE", "<GLOBAL_DATASTORE_SUFFIX>", "<CACHE_PRIMARY_ID>",
                      "<CACHE_SECONDARY_ID>"),),
        dns=(DnsRecord("<HOSTED_ZONE_ID>", "<RECORD_NAME>", "<RECORD_TYPE>", _text("TTL"),
                       "<PRIMARY_RECORD_VALUE>", "<SECONDARY_RECORD_VALUE>"),
             DnsRecord("<HOSTED_ZONE_ID>", "<FAILOVER_RECORD_NAME>", "<RECORD_TYPE>",
                       _text("TTL"), "<PRIMARY_RECORD_VALUE>", "<SECONDARY_RECORD_VALUE>",
                       routing_control=Sided("<PRIMARY_ROUTING_CONTROL_ARN>",
                                             "<SECONDARY_ROUTING_CONTROL_ARN>"))),
        routing_control_cluster=(ClusterEndpoint("<CLUSTER_ENDPOINT_REGION>",
                                                 "<CLUSTER_ENDPOINT_URL>"),),
        cdn=(Distribution("<DISTRIBUTION_ID>", "<ORIGIN_ID>", "<PRIMARY_ORIGIN_DOMAIN>",
                          "<SECONDARY_ORIGIN_DOMAIN>"),),
        services=(Service("<CLUSTER>", "<SERVICE>", _text("ACTIVE_COUNT"),
                          _text("STANDBY_COUNT")),),
        parameters=(Parameter("<PARAMETER_NAME>", "<PRIMARY_PARAMETER_VALUE>",
                              "<SECONDARY_PARAMETER_VALUE>"),),
        health=(HealthCheck("HEALTH", "<PRIMARY_HEALTH_URL>", "<SECONDARY_HEALTH_URL>",
                            expect_status=_text("EXPECT_STATUS"), public="<PUBLIC_URL>",
                            region_key="<REGION_KEY>"),),
        notify=Notify(Sided("<PRIMARY_SNS_TOPIC_ARN>", "<SECONDARY_SNS_TOPIC_ARN>")),
        lock=Lock("<LOCK_TABLE>"),
        source=SOURCE,
    )


def is_placeholder(config: Config) -> bool:
    return config.source == SOURCE
