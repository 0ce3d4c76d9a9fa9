"""The dr_state a run leaves, from its step records: the runs that stop part of the way
(the moves that finish are covered against the emulator in tests/steps and against real
Terraform in tests/terraform/test_after_failover.py)."""

from __future__ import annotations

from dataclasses import dataclass

from dr import terraform_state
from dr.config.model import Config, Database, Regions, Targets


@dataclass
class Step:
    type: str
    status: str


CONFIG = Config(app="timeline", environment="staging", regions=Regions("us-east-1", "us-west-2"),
                targets=Targets(rto_seconds=900, rpo_seconds=60),
                databases=(Database("main", "timeline-main", "timeline-main-dr"),))


def phase(name: str, to_region: str, *steps: tuple[str, str]) -> dict:
    return {"name": name, "to_region": to_region, "records": [Step(*s) for s in steps]}


def test_a_promotion_that_did_not_finish_leaves_dr_state_alone() -> None:
    failover = phase("failover", "us-west-2", ("rds.fence-primary", "succeeded"),
                     ("rds.promote-replica", "failed"))
    [text] = terraform_state.follow_ups(CONFIG, [failover], dry_run=False,
                                        resume="dr failover --resume RUN")
    assert text == ("Terraform: leave `dr_state` in "
                    "`terraform/environments/staging/dr-state.tfvars` as it is until this run "
                    "finishes (`dr failover --resume RUN`): its databases are between regions, "
                    "and neither stack (terraform/primary, terraform/secondary) should be "
                    "applied meanwhile")


def test_a_reprotect_that_retired_but_did_not_re_create_is_still_unprotected() -> None:
    reprotect = phase("reprotect", "us-west-2", ("rds.retire-old-primary", "succeeded"),
                      ("rds.create-replica", "failed"))
    [text] = terraform_state.follow_ups(CONFIG, [reprotect], dry_run=False)
    assert '`dr_state = { active = "secondary", protected = false }`' in text


def test_a_drill_ends_where_its_last_phase_left_the_estate() -> None:
    phases = [
        phase("failover", "us-west-2", ("rds.fence-primary", "skipped"),
              ("rds.promote-replica", "succeeded")),
        phase("reprotect", "us-west-2", ("rds.retire-old-primary", "succeeded"),
              ("rds.create-replica", "succeeded")),
        phase("failback", "us-east-1", ("rds.fence-primary", "succeeded"),
              ("rds.promote-replica", "succeeded"), ("rds.retire-old-primary", "succeeded"),
              ("rds.create-replica", "succeeded")),
    ]
    [text] = terraform_state.follow_ups(CONFIG, phases, dry_run=False)
    assert '`dr_state = { active = "primary", protected = true }`' in text
    assert "apply terraform/primary first (us-east-1), then terraform/secondary" in text


def test_runs_that_move_no_database_or_send_nothing_name_no_change() -> None:
    scale_only = phase("failover", "us-west-2", ("ecs.scale-up", "succeeded"))
    assert terraform_state.follow_ups(CONFIG, [scale_only], dry_run=False) == []
    promoted = phase("failover", "us-west-2", ("rds.promote-replica", "succeeded"))
    assert terraform_state.follow_ups(CONFIG, [promoted], dry_run=True) == []
