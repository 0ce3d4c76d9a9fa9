"""Every operation botocore is about to send from the clients of one session factory."""

from __future__ import annotations

import threading
from typing import Any

import boto3


class Sent:
    """Records (service, operation) of every call, from every thread's clients; use
    `session` as the run's session factory."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    @property
    def operations(self) -> list[str]:
        with self._lock:
            return [operation for _, operation in self.calls]

    def record(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls.append((model.service_model.service_name, model.name))

    def session(self) -> boto3.session.Session:
        session = boto3.session.Session()
        session.events.register("before-call", self.record)
        return session
