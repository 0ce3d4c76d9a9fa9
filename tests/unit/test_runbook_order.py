"""The failover graph's order: no client can write to two databases, and no traffic wait is
put after the promotion where it need not be (dr/runbooks.py)."""

from __future__ import annotations

import dataclasses

from dr import runbooks
from dr.config.model import Database, HealthCheck
from dr.runbook.graph import Runbook
from tests.unit.test_bound import BARE, CDN, DB, HEALTH, PARAMETER, RECORD, SERVICE

ESTATE = dataclasses.replace(
    BARE, databases=(DB, Database("other", "other", "other-dr")), dns=(RECORD,), cdn=(CDN,),
    parameters=(PARAMETER,), services=(SERVICE,),
    health=(HEALTH, HealthCheck("internal", "http://a/i", "http://b/i")))


def before(book: Runbook, step_id: str) -> set[str]:
    """Every step that must have finished before `step_id` starts."""
    found: set[str] = set()
    frontier = set(book.node(step_id).needs)
    while frontier:
        found |= frontier
        frontier = {n for f in frontier for n in book.node(f).needs} - found
    return found


def of(book: Runbook, step_type: str) -> list[str]:
    return [n.id for n in book.nodes if n.step.name == step_type]


def test_each_promotion_waits_for_its_fence_in_both_directions() -> None:
    for to in ("secondary", "primary"):
        book = runbooks.failover(ESTATE, to)
        for db in ESTATE.databases:
            assert f"databases.{db.name}.fence" in before(book, f"databases.{db.name}.promote")


def test_traffic_moves_after_every_fence_and_not_after_any_promotion() -> None:
    book = runbooks.failover(ESTATE, "secondary")
    for traffic in of(book, "route53.switch-records") + of(book, "cloudfront.switch-origin"):
        assert before(book, traffic) == set(of(book, "rds.fence-primary"))


def test_tasks_start_after_the_parameters_they_read() -> None:
    book = runbooks.failover(ESTATE, "secondary")
    [scale_up] = of(book, "ecs.scale-up")
    assert before(book, scale_up) == set(of(book, "ssm.put-parameter"))
    assert before(book, of(book, "ssm.put-parameter")[0]) == set()


def test_the_users_path_follows_the_traffic_and_the_region_its_own_needs() -> None:
    book = runbooks.failover(ESTATE, "secondary")
    assert of(book, "health.user-path") == ["health.api.user-path"]  # only a check with public
    traffic = set(of(book, "route53.switch-records") + of(book, "cloudfront.switch-origin"))
    assert traffic | set(of(book, "rds.fence-primary")) == before(book, "health.api.user-path")
    regional = before(book, "health.internal.verify")
    assert set(of(book, "rds.promote-replica") + of(book, "ecs.scale-up")) <= regional
    scale_down = of(book, "ecs.scale-down")[0]
    assert {n.id for n in book.nodes if n.step.recovery_path} <= before(book, scale_down)
