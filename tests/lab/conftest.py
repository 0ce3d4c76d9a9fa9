"""Fixtures for tests that need AWS: one emulator per session, emptied before each test.

- `emulator`: the session's `Emulator` (instant profile), started once.
- `aws`: per test; resets the emulator, points this process's AWS environment at it and
  yields a `LabAws` (endpoint, environment for a `dr` subprocess, client factory).
- `regionfront`: per test; a `RegionFront` proxy in front of the emulator, with this
  process's `AWS_ENDPOINT_URL` pointed at it. `aws.via(regionfront.url)` gives clients and
  an environment that go through it.

Other test packages can use them with `pytest_plugins = ("tests.lab.conftest",)` in the
top-level conftest.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import boto3
import pytest
from botocore.config import Config

from dr.lab import fidelity
from dr.lab.emulator import Emulator
from dr.lab.regionfront import RegionFront
from dr.lab.timing import INSTANT

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass(frozen=True)
class LabAws:
    """Where the test's AWS is, and how to reach it."""

    endpoint_url: str
    region: str = "us-east-1"

    @property
    def env(self) -> dict[str, str]:
        """Variables for a subprocess (`dr ...`): endpoint, fake credentials, and no
        profile or config file of the machine's user."""
        return {
            **CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }

    def via(self, endpoint_url: str) -> LabAws:
        return replace(self, endpoint_url=endpoint_url)

    def client(self, service: str, region: str | None = None, **config: Any) -> Any:
        """A boto3 client for `service` in `region`; `config` goes to botocore's Config
        (for example retries={"total_max_attempts": 1}, read_timeout=1)."""
        return boto3.client(
            service,
            region_name=region or self.region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=Config(**config),
        )


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with Emulator(INSTANT) as running:
        yield running


@pytest.fixture
def aws(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[LabAws]:
    fidelity.apply(INSTANT)  # a test may have changed the profile or the clock
    emulator.reset()
    lab = LabAws(emulator.endpoint_url)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in lab.env.items():
        monkeypatch.setenv(name, value)
    yield lab


@pytest.fixture
def regionfront(aws: LabAws, monkeypatch: pytest.MonkeyPatch) -> Iterator[RegionFront]:
    with RegionFront(aws.endpoint_url) as front:
        monkeypatch.setenv("AWS_ENDPOINT_URL", front.url)
        yield front
