"""A runbook: step instances and what each needs done first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dr.runbook.steptype import Direction, StepType


@dataclass(frozen=True)
class Node:
    step: StepType
    needs: frozenset[str]

    @property
    def id(self) -> str:
        return self.step.id


@dataclass(frozen=True)
class Runbook:
    name: str
    direction: Direction
    nodes: tuple[Node, ...]

    def __post_init__(self) -> None:
        ids = [n.id for n in self.nodes]
        duplicates = {i for i in ids if ids.count(i) > 1}
        if duplicates:
            raise ValueError(f"runbook {self.name}: duplicate step ids {sorted(duplicates)}")
        for node in self.nodes:
            unknown = node.needs - set(ids)
            if unknown:
                raise ValueError(f"runbook {self.name}: {node.id} needs unknown {sorted(unknown)}")
        self.order()

    def node(self, step_id: str) -> Node:
        return next(n for n in self.nodes if n.id == step_id)

    def order(self) -> list[Node]:
        """Nodes in a dependency order (stable: config order among equals); rejects cycles."""
        done: set[str] = set()
        ordered: list[Node] = []
        pending = list(self.nodes)
        while pending:
            ready = [n for n in pending if n.needs <= done]
            if not ready:
                raise ValueError(f"runbook {self.name}: dependency cycle among "
                                 f"{sorted(n.id for n in pending)}")
            for node in ready:
                ordered.append(node)
                done.add(node.id)
            pending = [n for n in pending if n.id not in done]
        return ordered

    def dependents(self, step_id: str) -> set[str]:
        """Every step that needs `step_id`, directly or through others."""
        found: set[str] = set()
        frontier = {step_id}
        while frontier:
            frontier = {n.id for n in self.nodes if n.needs & frontier} - found
            found |= frontier
        return found

    def finish_estimates(self, seconds: dict[str, float] | None = None) -> dict[str, float]:
        """When each step would finish if every step took its typical (or given) time and
        independent steps ran side by side."""
        finish: dict[str, float] = {}
        for node in self.order():
            start = max((finish[n] for n in node.needs), default=0.0)
            took = (seconds or {}).get(node.id, node.step.typical_seconds)
            finish[node.id] = start + took
        return finish

    def critical_path(self) -> float:
        return max(self.finish_estimates().values(), default=0.0)


def needs_all(nodes: Iterable[Node]) -> frozenset[str]:
    return frozenset(n.id for n in nodes)
