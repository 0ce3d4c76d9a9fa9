"""CloudWatch as RDS feeds it: a replica's ReplicaLag once its source takes no more commits.

moto holds only the datapoints someone put. RDS "automatically sends metrics to CloudWatch
every minute for each active database"
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/monitoring-cloudwatch.html), and a
replica that has applied everything reads 0: "When the ReplicaLag metric reaches 0, the
replica has caught up to the source DB instance"
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_MySQL.Replication.ReadReplicas.Monitor.html),
which is what AWS's promotion procedure waits for after stopping the writes
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Promote.html).

The model: for each replica of a source whose reboot ended every session while it was fenced
(`rds.reboot_db_instance`; a new security-group change ends it), a ReplicaLag of 0 is
published once per period (timing `RDS_METRIC_PERIOD`, scaled; the instant profile publishes
on every read of that replica's metric), dated when it is published; -1 for a replica whose
replication is broken (`fidelity.break_replication`): "If the ReplicaLag metric returns -1,
then replication is currently not active" (same page). It is published when CloudWatch is
read, as every fidelity state is computed when the emulator is asked.

Where the model is kinder than AWS: for PostgreSQL, RDS computes ReplicaLag as
`now() - pg_last_xact_replay_timestamp()`
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PostgreSQL.Replication.ReadReplicas.Monitor.html),
so a source that takes no commit at all shows a lag that grows until RDS's own next write;
the switchover's ReplicaLag proof can then take longer than modelled here (it is bounded by
databases[].switchover_timeout_seconds), which is why dr prefers the WAL position read
through the heartbeat connection. See docs/emulator-notes.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends

from dr.lab import timing
from dr.lab.fidelity import rds
from dr.lab.fidelity.layer import layer


def publish_replica_lag(region_asked: str, replica_asked: str | None) -> int:
    """Publishes the datapoints that are due for the replica a reader asks about (each is
    dated when it is published, so none can be older than the question); returns how many."""
    now = layer.clock()
    period = layer.duration(timing.RDS_METRIC_PERIOD)
    published = 0
    for region, replica, ended, record in rds.quiesced_replicas():
        if now < ended or (region, replica) != (region_asked, replica_asked):
            continue
        with layer.lock:
            if period and now - record[1] < period:
                continue
            record[1] = now
        with layer.lock:
            value = -1.0 if (region, replica) in layer.broken_replication else 0.0
        for backends in cloudwatch_backends.values():
            backends[region].put_metric_data("AWS/RDS", [{
                "MetricName": "ReplicaLag", "Value": value, "Unit": "Seconds",
                # Naive UTC, as moto keeps the timestamps of datapoints put through its API.
                "Timestamp": datetime.now(UTC).replace(tzinfo=None),
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": replica}]}])
            published += 1
            break
    return published


def install() -> None:
    statistics = CloudWatchBackend.get_metric_statistics

    def get_metric_statistics(self: CloudWatchBackend, namespace: str, metric_name: str,
                              *args: Any, **kwargs: Any) -> Any:
        dimensions = kwargs.get("dimensions") or []  # moto's response passes it by name
        asked = next((d.get("Value") for d in dimensions
                      if d.get("Name") == "DBInstanceIdentifier"), None)
        if (namespace, metric_name) == ("AWS/RDS", "ReplicaLag") and asked:
            publish_replica_lag(self.region_name, asked)
        return statistics(self, namespace, metric_name, *args, **kwargs)

    CloudWatchBackend.get_metric_statistics = get_metric_statistics  # type: ignore[method-assign]
