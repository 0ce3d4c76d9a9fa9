"""RTO where users are (contract 1.1): a check with a public URL ends the clock when the
recovery region serves it, and never before the last traffic change is in effect for every
client; without one, `traffic_settled_seconds` is reported beside the regional figure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dr.runbook.executor import StepRecord
from dr.runbook.journal import iso
from dr.runbook.measure import rto

START = datetime(2026, 11, 24, 21, 40, tzinfo=UTC)


def at(seconds: float) -> str:
    return iso(START + timedelta(seconds=seconds)) or ""


def step(step_id: str, kind: str, finished: float, status: str = "succeeded",
         **detail: Any) -> StepRecord:
    return StepRecord(id=step_id, type=kind, region="us-west-2", status=status,
                      started_at=at(0), finished_at=at(finished), seconds=finished,
                      attempts=1, detail=detail)


def measure(*records: StepRecord) -> dict[str, Any]:
    return rto(list(records), START, 900, dry_run=False, estimate=0)


DNS = step("dns.Z1.switch", "route53.switch-records", 70, changed_records=1,
           replaced_ttl_seconds=60)
CDN = step("cdn.E1.switch", "cloudfront.switch-origin", 301)
PROMOTE = step("databases.main.promote", "rds.promote-replica", 302)
REGIONAL = step("health.api.verify", "health.verify", 303, healthy_at=at(302.5))


def test_the_users_path_ends_the_clock_with_the_regional_figure_beside_it() -> None:
    found = measure(PROMOTE, DNS, CDN, REGIONAL,
                    step("health.api.user-path", "health.user-path", 306, healthy_at=at(305)))
    assert found["method"] == "public_url"
    assert (found["measured_seconds"], found["recovery_region_seconds"],
            found["traffic_settled_seconds"]) == (305.0, 302.5, 301.0)
    assert found["ended_at"] == at(305) and found["met"] is True


def test_never_before_a_cached_answer_of_a_changed_record_has_run_out() -> None:
    dns = step("dns.Z1.switch", "route53.switch-records", 290, changed_records=2,
               replaced_ttl_seconds=60)
    found = measure(PROMOTE, dns, REGIONAL,
                    step("health.api.user-path", "health.user-path", 303, healthy_at=at(302.6)))
    # The resolver dr used asked after the change; a client that asked just before it
    # keeps the old answer until INSYNC + 60 s.
    assert found["measured_seconds"] == 350.0 == found["traffic_settled_seconds"]


def test_routing_controls_count_the_ttl_of_the_answers_they_replaced() -> None:
    controls = step("dns.routing-controls.set-routing-controls", "arc.set-routing-controls",
                    4, routing_controls={"arn-p": "Off", "arn-s": "On"},
                    replaced_ttl_seconds=60)
    found = measure(controls, REGIONAL,
                    step("health.api.user-path", "health.user-path", 10, healthy_at=at(9)))
    # The name servers answered the secondary at 4 s; a client that asked just before kept
    # the primary's answer for its 60 s TTL.
    assert found["measured_seconds"] == 64.0 == found["traffic_settled_seconds"]
    already = step("dns.routing-controls.set-routing-controls", "arc.set-routing-controls",
                   4, already_done=True)
    assert measure(already, REGIONAL, step("health.api.user-path", "health.user-path", 10,
                                           healthy_at=at(9)))["measured_seconds"] == 9.0


def test_a_record_that_did_not_change_adds_no_ttl() -> None:
    unchanged = step("dns.Z1.switch", "route53.switch-records", 5, already_done=True)
    found = measure(unchanged, REGIONAL,
                    step("health.api.user-path", "health.user-path", 10, healthy_at=at(9)))
    assert found["traffic_settled_seconds"] == 5.0 and found["measured_seconds"] == 9.0


def test_without_a_public_url_the_region_ends_it_and_traffic_is_reported() -> None:
    found = measure(PROMOTE, DNS, CDN, REGIONAL)
    assert found["method"] == "health_checks"
    assert found["measured_seconds"] == 302.5 == found["recovery_region_seconds"]
    assert found["traffic_settled_seconds"] == 301.0


def test_a_check_without_public_is_ended_by_its_region_beside_a_public_one() -> None:
    found = measure(PROMOTE, REGIONAL,
                    step("health.web.verify", "health.verify", 400, healthy_at=at(399)),
                    step("health.web.user-path", "health.user-path", 304, healthy_at=at(303)))
    # api has no public URL: its region's check ends it; web's user's path ends web.
    assert found["method"] == "public_url" and found["measured_seconds"] == 303.0
    assert found["recovery_region_seconds"] == 399.0


def test_a_users_path_that_was_never_served_is_no_recovery() -> None:
    found = measure(PROMOTE, DNS, REGIONAL,
                    step("health.api.user-path", "health.user-path", 900, status="failed"))
    assert found["method"] == "not_recovered" and found["measured_seconds"] is None
