"""Terraform afterwards: the `dr_state` both Terraform stacks read, after each runbook.

terraform/primary and terraform/secondary declare where traffic, capacity and the writable
database belong from one input, `dr_state = { active, protected }`, kept in one file both
read (terraform/README.md, "After a failover"). A run changes what the right value is: this
module says what it is after a run, from the run's own step records, for the report's
follow-up list, and after each runbook, for the runbook documents. Both use `after()`, so
the documents and the reports cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from dr.config.model import Config, Role, other

STATE_FILE = "terraform/environments/{environment}/dr-state.tfvars"
STACKS: tuple[Role, ...] = ("primary", "secondary")
PROMOTE, FENCE, CREATE_REPLICA = "rds.promote-replica", "rds.fence-primary", "rds.create-replica"
RETIRE = "rds.retire-old-primary"


class Step(Protocol):
    type: str
    status: str


@dataclass(frozen=True)
class DrState:
    """Which side is active (its databases are the writers) and whether the other side
    holds replicas of them again."""

    active: Role
    protected: bool

    def hcl(self) -> str:
        return (f'dr_state = {{ active = "{self.active}", protected = '
                f'{"true" if self.protected else "false"} }}')


@dataclass(frozen=True)
class Outcome:
    """`state` after the run, or None when its databases are between regions (a promotion
    did not finish); `unfenced`: the old side's writers were not fenced (region down)."""

    state: DrState | None
    unfenced: bool = False


def after(config: Config, phases: Iterable[Mapping[str, Any]]) -> Outcome | None:
    """The dr_state after a run's phases (each `{name, to_region, records}`, in order), or
    None when no phase acted on a database (dr_state says where the writers are). A failover
    or failback makes its destination active once every promotion succeeded, and leaves it
    unprotected unless (a failback) it re-created every replica; a reprotect protects the
    active side once every replica is re-created."""
    outcome = None
    for phase in phases:
        records: Sequence[Step] = phase["records"]
        if not any(r.type in (PROMOTE, CREATE_REPLICA, RETIRE) for r in records):
            continue
        to: Role = "primary" if phase["to_region"] == config.regions.primary else "secondary"
        created = all(r.status == "succeeded" for r in records if r.type == CREATE_REPLICA)
        if phase["name"] == "reprotect":
            outcome = Outcome(DrState(to, created))
            continue
        if not all(r.status == "succeeded" for r in records if r.type == PROMOTE):
            return Outcome(None)
        unfenced = any(r.status != "succeeded" for r in records if r.type == FENCE)
        protected = phase["name"] == "failback" and created and any(
            r.type == CREATE_REPLICA for r in records)
        outcome = Outcome(DrState(to, protected), unfenced=unfenced and not protected)
    return outcome


def state_file(config: Config) -> str:
    return STATE_FILE.format(environment=config.environment)


def instruction(config: Config, outcome: Outcome, resume: str | None = None) -> str:
    """What to change in Terraform, naming the file, the variable and its value for each
    stack, and in which order to apply them."""
    path = state_file(config)
    if outcome.state is None:
        resume = f"`{resume}`" if resume else "the run's `--resume`"
        return (f"Terraform: leave `dr_state` in `{path}` as it is until this run finishes "
                f"({resume}): its databases are between regions, and neither stack "
                "(terraform/primary, terraform/secondary) should be applied meanwhile")
    state = outcome.state
    active, standby = state.active, other(state.active)
    order = [f"terraform/{active} first ({config.regions.of(active)})"]
    if outcome.unfenced:
        order.append(f"terraform/{standby} once {config.regions.of(standby)} answers and its "
                     "old writers are fenced (until then its plan stops at the dr_state "
                     "check)")
    else:
        order.append(f"then terraform/{standby}")
    return (f"Terraform: in `{path}`, the one file both stacks read, set `{state.hcl()}` "
            f"for {' and '.join(f'terraform/{stack}' for stack in STACKS)}; apply "
            f"{', '.join(order)}")


def follow_ups(config: Config, phases: Iterable[Mapping[str, Any]], *, dry_run: bool,
               resume: str | None = None) -> list[str]:
    """The report's Terraform follow-up (`resume`: the command that finishes the run): none
    for a dry run or a run that changed nothing."""
    outcome = None if dry_run else after(config, phases)
    return [] if outcome is None else [instruction(config, outcome, resume)]


@dataclass(frozen=True)
class _Planned:
    type: str
    status: str


def _as_planned(phases: Iterable[tuple[str, Any]], skipped: frozenset[str] = frozenset()
                ) -> list[dict[str, Any]]:
    return [{"name": name, "to_region": book.direction.to_region,
             "records": [_Planned(n.step.name, "skipped" if n.step.name in skipped
                                  else "succeeded") for n in book.nodes]}
            for name, book in phases]


def docs_section(config: Config, phases: list[tuple[str, Any]]) -> list[str]:
    """"Terraform afterwards" for a runbook document: the follow-up its report will carry
    when every step succeeds, and when its best-effort steps are skipped."""
    lines = ["## Terraform afterwards", "",
             "Both Terraform stacks declare where traffic, capacity and the writable "
             "database belong from one input, `dr_state`, in "
             f"`{state_file(config)}` (terraform/README.md, \"After a failover\"). Until "
             "it says where this runbook left the estate, each stack's plan stops at its "
             "`dr_state` check wherever the databases disagree with it, so no apply moves "
             "traffic or capacity back. The run's report carries the change as a "
             "follow-up:", ""]
    done = after(config, _as_planned(phases))
    assert done is not None
    lines += [f"- {instruction(config, done)}."]
    best_effort = frozenset(n.step.name for _, book in phases for n in book.nodes
                            if n.step.best_effort)
    cut_short = after(config, _as_planned(phases, best_effort)) if best_effort else None
    if cut_short is not None and cut_short != done:
        lines += [f"- When its best-effort steps ({', '.join(sorted(best_effort))}) are "
                  f"skipped because a region does not answer: {instruction(config, cut_short)}."]
    return lines + [""]
