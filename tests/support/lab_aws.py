"""Where a test's AWS is (the emulator, or the proxy in front of it), and how to reach it."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

import boto3
from botocore.config import Config

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
