"""An estate in the emulator, with real loopback health endpoints, and dr.yaml for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from dr.lab.estate import Shape, provision
from tests.support.health import HealthServer
from tests.support.lab_aws import LabAws
from tests.support.terminal import Terminal

PRIMARY, SECONDARY = "eu-west-1", "ap-southeast-2"
FULL = Shape(databases=3, zones=2, records_per_zone=5, distributions=2, services=3,
             parameters=2, extra_origin=True)


@dataclass
class World:
    aws: LabAws
    config: dict[str, Any]
    path: Path
    health: dict[str, HealthServer]

    def write(self) -> None:
        self.path.write_text(yaml.safe_dump(self.config, sort_keys=False))


def build(aws: LabAws, tmp_path: Path, shape: Shape, **kwargs: Any) -> World:
    servers = {"primary": HealthServer(), "secondary": HealthServer()}
    estate = provision(boto3.session.Session(), primary=PRIMARY, secondary=SECONDARY,
                       shape=shape,
                       health={"api": (servers["primary"].url, servers["secondary"].url)},
                       **kwargs)
    world = World(aws, estate.config, tmp_path / "dr.yaml", servers)
    world.write()
    return world


@pytest.fixture
def world(aws: LabAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.chdir(tmp_path)
    built = build(aws, tmp_path, FULL)
    yield built
    for server in built.health.values():
        server.stop()


@pytest.fixture
def small_world(aws: LabAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                ) -> Iterator[World]:
    monkeypatch.chdir(tmp_path)
    built = build(aws, tmp_path, Shape())
    yield built
    for server in built.health.values():
        server.stop()


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    """A tmux pane of 120x40 for this test; its server is stopped afterwards."""
    term = Terminal(tmp_path)
    yield term
    term.stop()
