"""A two-region estate for the timeline app, provisioned with boto3 onto an emulator, and
the dr.yaml that describes it. The tests and the lab both build on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ACCOUNT = "123456789012"


@dataclass(frozen=True)
class Shape:
    databases: int = 1
    zones: int = 1
    records_per_zone: int = 1
    distributions: int = 1
    services: int = 1
    parameters: int = 1
    extra_origin: bool = True
    security_groups: int = 0  # VPC security groups per database side (0: moto's default)
    caches: int = 0  # ElastiCache global datastores (a member in each region)


@dataclass(frozen=True)
class Estate:
    config: dict[str, Any]

    @property
    def regions(self) -> tuple[str, str]:
        return self.config["regions"]["primary"], self.config["regions"]["secondary"]


def _short(region: str) -> str:
    parts = region.split("-")
    return parts[0] + "".join(p[0] for p in parts[1:-1]) + parts[-1]


def _network(ec2: Any, rds: Any, app: str, count: int) -> dict[str, Any]:
    """A VPC with a DB subnet group and `count` security groups, as create-db-instance
    arguments (none when `count` is 0: moto's defaults)."""
    if not count:
        return {}
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{n}.0/24",
                                 AvailabilityZone=zone)["Subnet"]["SubnetId"]
               for n, zone in enumerate(zones)]
    rds.create_db_subnet_group(DBSubnetGroupName=f"{app}-db", SubnetIds=subnets,
                               DBSubnetGroupDescription=f"{app} databases")
    ids = [ec2.create_security_group(GroupName=f"{app}-db-{n}", VpcId=vpc,
                                     Description=f"{app} database access {n}")["GroupId"]
           for n in range(count)]
    return {"VpcSecurityGroupIds": ids, "DBSubnetGroupName": f"{app}-db"}


def _cache_network(ec2: Any, elasticache: Any, app: str) -> dict[str, Any]:
    """A cache subnet group and security group, as create-replication-group arguments."""
    vpc = ec2.create_vpc(CidrBlock="10.41.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.41.1.0/24")["Subnet"]["SubnetId"]
    elasticache.create_cache_subnet_group(CacheSubnetGroupName=f"{app}-cache",
                                          CacheSubnetGroupDescription=f"{app} caches",
                                          SubnetIds=[subnet])
    group = ec2.create_security_group(GroupName=f"{app}-cache", VpcId=vpc,
                                      Description=f"{app} cache access")["GroupId"]
    return {"CacheSubnetGroupName": f"{app}-cache", "SecurityGroupIds": [group]}


def _caches(client: Any, regions: dict[str, str], app: str, count: int) -> list[dict[str, Any]]:
    """`count` global datastores, each with its primary member in the primary region and a
    secondary in the other (provision under the instant profile: a secondary joins a
    datastore only once it is created)."""
    network = {role: _cache_network(client("ec2", region), client("elasticache", region), app)
               for role, region in regions.items()} if count else {}
    found = []
    for i in range(count):
        name = "sessions" if i == 0 else f"cache{i}"
        ids = {"primary": f"{app}-{name}", "secondary": f"{app}-{name}-dr"}
        settings = {"Engine": "redis", "CacheNodeType": "cache.r7g.large",
                    "NumCacheClusters": 2, "AutomaticFailoverEnabled": True,
                    "MultiAZEnabled": True, "AtRestEncryptionEnabled": True,
                    "TransitEncryptionEnabled": True}
        client("elasticache", regions["primary"]).create_replication_group(
            ReplicationGroupId=ids["primary"], ReplicationGroupDescription=f"{app} {name}",
            **settings, **network["primary"])
        gid = client("elasticache", regions["primary"]).create_global_replication_group(
            GlobalReplicationGroupIdSuffix=f"{app}-{name}",
            PrimaryReplicationGroupId=ids["primary"],
        )["GlobalReplicationGroup"]["GlobalReplicationGroupId"]
        client("elasticache", regions["secondary"]).create_replication_group(
            ReplicationGroupId=ids["secondary"], ReplicationGroupDescription=f"{app} {name}",
            GlobalReplicationGroupId=gid, NumCacheClusters=2, AutomaticFailoverEnabled=True,
            MultiAZEnabled=True, **network["secondary"])
        found.append({"name": name, "global_group": f"{app}-{name}", **ids})
    return found


def provision(session: Any, *, primary: str, secondary: str, shape: Shape,
              health: dict[str, tuple[str, str]] | None = None, app: str = "timeline",
              environment: str = "staging", rto_seconds: float = 900, rpo_seconds: float = 60,
              lock_table: str | None = None, replica_lag: float | None = 1.0,
              record_ttl: int = 60, origin_port: int | None = None) -> Estate:
    """Create the estate with `session` (a boto3 Session pointed at the emulator).
    `origin_port`: the distributions reach their origins over HTTP on that port (the lab's
    apps), instead of HTTPS."""
    made: dict[tuple[str, str], Any] = {}

    def client(service: str, region: str) -> Any:
        # Making a client costs far more than a call to the emulator: make each once.
        if (service, region) not in made:
            made[service, region] = session.client(service, region_name=region)
        return made[service, region]

    regions = {"primary": primary, "secondary": secondary}
    short = {role: _short(r) for role, r in regions.items()}
    config: dict[str, Any] = {
        "version": 1, "app": app, "environment": environment,
        "regions": dict(regions),
        "targets": {"rto_seconds": rto_seconds, "rpo_seconds": rpo_seconds},
        "databases": [], "dns": [], "cdn": [], "services": [], "parameters": [],
        "health": [],
    }

    network = {role: _network(client("ec2", region), client("rds", region), app,
                              shape.security_groups) for role, region in regions.items()}
    for i in range(shape.databases):
        name = "main" if i == 0 else f"db{i}"
        ids = {"primary": f"{app}-{name}", "secondary": f"{app}-{name}-dr"}
        rds_p = client("rds", primary)
        source = rds_p.create_db_instance(
            DBInstanceIdentifier=ids["primary"], Engine="postgres", EngineVersion="15.4",
            DBInstanceClass="db.t4g.medium", AllocatedStorage=20, MasterUsername="timeline",
            MasterUserPassword="lab-only-password", BackupRetentionPeriod=30,
            **network["primary"])["DBInstance"]
        client("rds", secondary).create_db_instance_read_replica(
            DBInstanceIdentifier=ids["secondary"],
            SourceDBInstanceIdentifier=source["DBInstanceArn"], DBInstanceClass="db.t4g.medium",
            **network["secondary"])
        if replica_lag is not None:
            client("cloudwatch", secondary).put_metric_data(
                Namespace="AWS/RDS", MetricData=[{
                    "MetricName": "ReplicaLag", "Value": replica_lag, "Unit": "Seconds",
                    "Timestamp": datetime.now(UTC),
                    "Dimensions": [{"Name": "DBInstanceIdentifier",
                                    "Value": ids["secondary"]}]}])
        config["databases"].append({"name": name, **ids})

    if shape.caches:
        config["caches"] = _caches(client, regions, app, shape.caches)

    route53 = client("route53", "us-east-1")
    for z in range(shape.zones):
        domain = f"{app}{z or ''}.example.com"
        zone = route53.create_hosted_zone(Name=domain, CallerReference=f"dr-lab-{domain}")
        zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
        changes = []
        for r in range(shape.records_per_zone):
            label = "api" if r == 0 else f"svc{r}"
            values = {role: f"{label}.{short[role]}.{app}.example.net" for role in regions}
            config["dns"].append({"zone_id": zone_id, "name": f"{label}.{domain}",
                                  "type": "CNAME", "ttl": record_ttl, **values})
            changes.append({"Action": "CREATE", "ResourceRecordSet": {
                "Name": f"{label}.{domain}", "Type": "CNAME", "TTL": record_ttl,
                "ResourceRecords": [{"Value": values["primary"]}]}})
        for start in range(0, len(changes), 500):
            route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
                "Changes": changes[start:start + 500]})

    cloudfront = client("cloudfront", "us-east-1")
    for d in range(shape.distributions):
        domains = {role: f"alb{d or ''}.{short[role]}.{app}.example.net" for role in regions}
        origins = [{"Id": "api", "DomainName": domains["primary"],
                    "CustomOriginConfig": {"HTTPPort": origin_port or 80, "HTTPSPort": 443,
                                           "OriginProtocolPolicy": "http-only" if origin_port
                                           else "https-only"}}]
        if shape.extra_origin:
            origins.append({"Id": "assets", "DomainName": f"{app}-assets{d}.s3.amazonaws.com",
                            "S3OriginConfig": {"OriginAccessIdentity": ""}})
        created = cloudfront.create_distribution(DistributionConfig={
            "CallerReference": f"dr-lab-{d}", "Comment": f"{app} {d}", "Enabled": True,
            "Origins": {"Quantity": len(origins), "Items": origins},
            "DefaultCacheBehavior": {"TargetOriginId": "api",
                                     "ViewerProtocolPolicy": "redirect-to-https",
                                     "MinTTL": 0, "ForwardedValues": {
                                         "QueryString": True, "Cookies": {"Forward": "none"}}},
        })["Distribution"]
        config["cdn"].append({"distribution_id": created["Id"], "origin_id": "api", **domains})

    for s in range(shape.services):
        name = "api" if s == 0 else f"worker{s}"
        for role, region in regions.items():
            ecs = client("ecs", region)
            ecs.create_cluster(clusterName=app)
            ecs.register_task_definition(family=f"{app}-{name}", containerDefinitions=[
                {"name": name, "image": f"{app}/{name}:1", "memory": 512}])
            ecs.create_service(cluster=app, serviceName=name, taskDefinition=f"{app}-{name}",
                               desiredCount=4 if role == "primary" else 1, launchType="FARGATE")
        config["services"].append({"cluster": app, "service": name, "active_count": 4,
                                   "standby_count": 1})

    for p in range(shape.parameters):
        name = f"/{app}/{environment}/" + ("db_host" if p == 0 else f"setting{p}")
        values = {role: f"{app}-main.{short[role]}.rds.example.net" if p == 0
                  else f"{role}-value-{p}" for role in regions}
        for region in regions.values():
            client("ssm", region).put_parameter(
                Name=name, Value=values["primary"], Type="String", Overwrite=True)
        config["parameters"].append({"name": name, **values})

    for name, (url_p, url_s) in (health or {}).items():
        config["health"].append({"name": name, "primary": url_p, "secondary": url_s,
                                 "expect_status": 200, "consecutive": 2,
                                 "interval_seconds": 0.1})

    topics = {role: client("sns", region).create_topic(
        Name=f"{app}-dr-events")["TopicArn"] for role, region in regions.items()}
    config["notify"] = {"sns_topic_arn": topics}

    if lock_table:
        for region in regions.values():
            client("dynamodb", region).create_table(
                TableName=lock_table, BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}])
        config["lock"] = {"dynamodb_table": lock_table}
    return Estate(config)
