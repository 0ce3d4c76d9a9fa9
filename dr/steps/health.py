"""HTTP health: the recovery is complete when every health check of the recovery region
passes `consecutive` times in a row. Readiness only asks that the endpoint answers at all:
before promotion a health check that needs a writable database may rightly fail."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

from dr.config.model import HealthCheck
from dr.errors import VerifyFailed
from dr.runbook.context import StepContext
from dr.runbook.journal import iso
from dr.runbook.steptype import Manual, Problem, StepType, register


def probe(url: str, timeout: float) -> int | str:
    """The HTTP status of a GET, or why there was none."""
    request = urllib.request.Request(url, headers={"User-Agent": "dr-health/1"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"no answer: {reason}"


@register
class VerifyHealth(StepType):
    name = "health.verify"
    action = "verify"
    reads = "health"
    acts_in = "to"
    typical_seconds = 5.0
    timeout_seconds = 600.0
    iam_actions = ()
    read_only = True
    summary = ("GET the recovery region's health URL until it answers the expected status "
               "the configured number of times in a row; that moment ends the RTO clock.")
    why = ("After promotion, parameters and scale-up: the application needs all three to "
           "pass. Its success is the end of the recovery.")
    manual = Manual(
        procedure="""```bash
for i in 1 2 3; do curl -s -o /dev/null -w '%{{http_code}}\\n' {url}; sleep 1; done
# expect {expect_status} each time
```""",
        verify="""The same request answers {expect_status}.""",
        undo="""Nothing to undo: this step only reads.""")

    item: HealthCheck

    @property
    def key(self) -> str:
        return self.item.name

    @property
    def url(self) -> str:
        return self.item.side(self.direction.to)

    def manual_values(self) -> dict[str, Any]:
        return {**super().manual_values(), "url": self.url,
                "expect_status": self.item.expect_status}

    def plan(self) -> str:
        return (f"GET {self.url} until it answers {self.item.expect_status} "
                f"{self.item.consecutive} times in a row")

    def check(self, ctx: StepContext) -> list[Problem]:
        answer = probe(self.url, self.item.timeout_seconds)
        ctx.note(readiness_status=answer)
        if isinstance(answer, str):
            return [Problem(f"health[{self.item.name}] {self.url}",
                            f"recovery region unhealthy: {answer}")]
        return []

    def apply(self, ctx: StepContext) -> None:
        streak: list[datetime] = []
        last: list[int | str] = []

        def passing() -> bool:
            answer = probe(self.url, self.item.timeout_seconds)
            last[:] = [answer]
            if answer == self.item.expect_status:
                streak.append(datetime.now(UTC))
            else:
                streak.clear()
            return len(streak) >= self.item.consecutive

        ctx.wait(f"{self.url} answering {self.item.expect_status}", passing,
                 every=self.item.interval_seconds)
        if streak:
            ctx.note(healthy_at=iso(streak[0]), checks=self.item.consecutive)
        elif last:
            ctx.note(last_answer=last[0])

    def verify(self, ctx: StepContext) -> None:
        answer = probe(self.url, self.item.timeout_seconds)
        if answer != self.item.expect_status:
            raise VerifyFailed(f"{self.url} answered {answer}, expected "
                               f"{self.item.expect_status}")
