"""How users' traffic reaches the lab's regions, and how a failover moves it.

- `name_regional_endpoints`: the estate's regional names (records' and origins' values) as A
  records of a public zone, each pointing at its region's app;
- `use_routing_controls` (`--traffic routing-controls`): traffic moved by ARC routing
  controls, as the Terraform modules build it with `traffic_control = "routing_controls"`
  (terraform/README.md): each record a failover pair whose RECOVERY_CONTROL health checks
  follow a control of the lab's cluster (dr/lab/arc.py), each distribution's API origin
  that record's name (it follows the record, so it needs no `cdn` entry);
- `health_checks`: the lab dr.yaml's checks, one per public URL;
- `require_global_home`: `--with-global` only where the global control planes live.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dr.aws.gateway import GLOBAL_HOME
from dr.errors import UsageError
from dr.lab.arc import ArcCluster
from dr.lab.estate import ACCOUNT

if TYPE_CHECKING:
    from dr.lab.world import Lab

ROLES = ("primary", "secondary")
CONTROL_PANEL = f"arn:aws:route53-recovery-control::{ACCOUNT}:controlpanel/0dr0lab"
GLOBAL_CONTROL_PLANES = "Route 53, CloudFront, IAM, STS"


def require_global_home(region: str) -> None:
    """Losing the global control planes with a region makes sense only for the region that
    homes them: anywhere else it would be two unrelated failures, and dr treats the global
    services as part of the region being left only when that region is us-east-1
    (contract 1.1, "Losing us-east-1")."""
    if region != GLOBAL_HOME:
        raise UsageError(f"--with-global: the global control planes ({GLOBAL_CONTROL_PLANES}) "
                         f"are homed in {GLOBAL_HOME}, not in {region}; start the lab with "
                         f"--primary-region {GLOBAL_HOME} to lose them with the region")


def name_regional_endpoints(lab: Lab, addresses: dict[str, str], ttl: int) -> None:
    """The regional names of the records and origins as A records of a public zone."""
    names = {}
    for entry in lab.config["dns"] + lab.config["cdn"]:
        for role in ROLES:
            names[entry[role].rstrip(".").lower()] = addresses[role]
    domain = f"{lab.config['app']}.example.net"
    route53 = lab.client("route53", GLOBAL_HOME)
    zone = route53.create_hosted_zone(Name=domain, CallerReference=f"dr-lab-{domain}")
    changes = [{"Action": "CREATE", "ResourceRecordSet": {
        "Name": name, "Type": "A", "TTL": ttl, "ResourceRecords": [{"Value": address}]}}
        for name, address in sorted(names.items()) if name.endswith("." + domain)]
    route53.change_resource_record_sets(HostedZoneId=zone["HostedZone"]["Id"],
                                        ChangeBatch={"Changes": changes})


def use_routing_controls(lab: Lab) -> ArcCluster:
    """Each record a PRIMARY/SECONDARY failover pair driven by a routing control per side
    (the primary's On), the distributions' API origin the first record's name; dr.yaml gets
    `dns[].routing_control`, `routing_control_cluster` and no `cdn` entry. Provisioning
    time: the emulator answers at once."""
    from dr.lab.fidelity import route53_recovery

    cluster = ArcCluster().start()
    lab.on_down(cluster.stop)
    route53_recovery.set_routing_controls(lambda arn: cluster.states().get(arn))
    lab.on_down(lambda: route53_recovery.set_routing_controls(None))
    route53 = lab.client("route53", GLOBAL_HOME)
    for n, record in enumerate(lab.config["dns"]):
        shared = {"Name": record["name"], "Type": record["type"], "TTL": record["ttl"]}
        changes: list[dict[str, Any]] = [{"Action": "DELETE", "ResourceRecordSet": {
            **shared, "ResourceRecords": [{"Value": record["primary"]}]}}]
        controls = {}
        for role in ROLES:
            arn = controls[role] = f"{CONTROL_PANEL}/routingcontrol/{role[0]}{n:03d}"
            cluster.add_control(arn, f"{record['name']} {role}",
                                "On" if role == "primary" else "Off", CONTROL_PANEL)
            check = route53.create_health_check(
                CallerReference=f"dr-lab-{role}-{n}", HealthCheckConfig={
                    "Type": "RECOVERY_CONTROL", "RoutingControlArn": arn})["HealthCheck"]["Id"]
            changes.append({"Action": "CREATE", "ResourceRecordSet": {
                **shared, "SetIdentifier": role, "Failover": role.upper(),
                "HealthCheckId": check, "ResourceRecords": [{"Value": record[role]}]}})
        route53.change_resource_record_sets(HostedZoneId=record["zone_id"],
                                            ChangeBatch={"Changes": changes})
        record["routing_control"] = controls
    lab.config["routing_control_cluster"] = {"endpoints": cluster.endpoints}
    _origins_on(lab, lab.config["dns"][0]["name"])
    lab.config["cdn"] = []
    return cluster


def _origins_on(lab: Lab, name: str) -> None:
    """Each distribution's dr-managed origin set to `name` (CloudFront resolves it as any
    client does, so the routing controls move it too)."""
    cloudfront = lab.client("cloudfront", GLOBAL_HOME)
    for entry in {c["distribution_id"]: c for c in lab.config["cdn"]}.values():
        found = cloudfront.get_distribution_config(Id=entry["distribution_id"])
        config = found["DistributionConfig"]
        for origin in config["Origins"]["Items"]:
            if origin["Id"] == entry["origin_id"]:
                origin["DomainName"] = name
        cloudfront.update_distribution(Id=entry["distribution_id"], IfMatch=found["ETag"],
                                       DistributionConfig=config)


def health_checks(lab: Lab, app_port: int, cdn_port: int, timeout: float, region_key: str
                  ) -> list[dict[str, Any]]:
    """One check per public URL: each record's name, each distribution's domain; the
    recovery region's own URL beside it."""
    cloudfront = lab.client("cloudfront", GLOBAL_HOME)
    public = [(r["name"], f"http://{r['name']}:{app_port}/health") for r in lab.config["dns"]]
    listed = cloudfront.list_distributions()["DistributionList"].get("Items", [])
    for domain in sorted(d["DomainName"] for d in listed):
        public.append((domain, f"http://{domain}:{cdn_port}/health"))
    return [{"name": name, "primary": lab.apps["primary"].health_url,
             "secondary": lab.apps["secondary"].health_url, "expect_status": 200,
             "consecutive": 3, "interval_seconds": 0.1, "timeout_seconds": timeout,
             "public": url, "region_key": region_key} for name, url in public]
