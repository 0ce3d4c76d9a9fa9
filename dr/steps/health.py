"""HTTP health: the recovery region is healthy when every health check of it passes
`consecutive` times in a row. Readiness only asks that the endpoint answers at all: before
promotion a health check that needs a writable database may rightly fail.

Where a check names the URL users call (`public`), a second step follows the user's path:
that URL, resolved as a client resolves it (dr/publicurl.py), must answer from the recovery
region (the body's `region_key`, where given) as many times in a row; that moment, not the
regional check's, ends the RTO clock (contract 1.1).
"""

from __future__ import annotations

import shlex
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

from dr import publicurl
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
# {consecutive} answers of {expect_status} in a row, one every {interval} s; gives up after
# 600 tries (run it again while the application is still starting).
PASSES=0
for TRY in $(seq 600); do
  CODE=$(curl -s -o /dev/null -m {timeout} -w '%{{http_code}}' {url_sh} || true)
  if [ "$CODE" = "{expect_status}" ]; then PASSES=$((PASSES + 1)); else PASSES=0; fi
  if [ "$PASSES" -ge "{consecutive}" ]; then break; fi
  sleep {interval}
done
echo "{url}: $CODE ($PASSES in a row, try $TRY)"
```""",
        verify="""```bash
CODE=$(curl -s -o /dev/null -m {timeout} -w '%{{http_code}}' {url_sh} || true)
if [ "$CODE" = "{expect_status}" ]; then
  echo "ok: {url} answers {expect_status}"
else
  echo "NOT YET: {url} answers $CODE, not {expect_status}" >&2; false
fi
```""",
        undo="""Nothing to undo: this step only reads.""")

    item: HealthCheck

    @property
    def key(self) -> str:
        return self.item.name

    @property
    def url(self) -> str:
        return self.item.side(self.direction.to)

    def manual_values(self) -> dict[str, Any]:
        return {**super().manual_values(), "url": self.url, "url_sh": shlex.quote(self.url),
                "expect_status": self.item.expect_status,
                "consecutive": self.item.consecutive,
                "interval": f"{self.item.interval_seconds:g}",
                "timeout": f"{self.item.timeout_seconds:g}"}

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


@register
class VerifyUserPath(StepType):
    name = "health.user-path"
    action = "user-path"
    reads = "health"
    acts_in = "to"
    typical_seconds = 5.0
    timeout_seconds = 900.0
    iam_actions = ()
    read_only = True
    summary = ("GET the public URL users call, resolving its name as a client does (DNS, "
               "each answer kept for its TTL), until the recovery region serves it the "
               "configured number of times in a row; that moment ends the RTO clock.")
    why = ("After the DNS and CDN changes: users reach the recovery region through them. It "
           "measures what users see, including Route 53 propagation, cached DNS answers and "
           "CloudFront deployment.")
    manual = Manual(
        procedure="""```bash
for i in 1 2 3; do curl -s -w ' %{{http_code}}\\n' {public}; sleep 1; done
# expect {expect_status} each time, and the body's {region_key} to be {to_region}
dig +noall +answer {public_host}   # what a client resolves now, and for how long (TTL)
```""",
        verify="""The same requests answer {expect_status} from {to_region}.""",
        undo="""Nothing to undo: this step only reads.""")

    item: HealthCheck

    @property
    def key(self) -> str:
        return self.item.name

    @property
    def url(self) -> str:
        return self.item.public or ""

    def manual_values(self) -> dict[str, Any]:
        from urllib.parse import urlsplit

        return {**super().manual_values(), "public": self.url,
                "public_host": urlsplit(self.url).hostname or self.url,
                "expect_status": self.item.expect_status,
                "region_key": self.item.region_key or "region key"}

    def plan(self) -> str:
        served = (f" with {self.item.region_key} = {self.direction.to_region}"
                  if self.item.region_key else "")
        return (f"GET {self.url} (DNS as a client resolves it) until it answers "
                f"{self.item.expect_status}{served} {self.item.consecutive} times in a row")

    def _client(self) -> publicurl.PublicClient:
        return publicurl.PublicClient(publicurl.nameserver_from_env(),
                                      self.item.timeout_seconds)

    def _served(self, answer: publicurl.PublicAnswer) -> bool:
        return answer.status == self.item.expect_status and (
            self.item.region_key is None or answer.region == self.direction.to_region)

    def check(self, ctx: StepContext) -> list[Problem]:
        """A name that does not exist is a mistake to fix before failing over; any other
        answer (the old region's, none at all) is what an outage looks like."""
        answer = self._client().get(self.url, self.item.region_key)
        ctx.note(readiness_answer=answer.status or answer.error, served_by=answer.region)
        if answer.error and "NXDOMAIN" in answer.error:
            return [Problem(f"health[{self.item.name}].public {self.url}", answer.error)]
        return []

    def apply(self, ctx: StepContext) -> None:
        client = self._client()
        streak: list[tuple[datetime, publicurl.PublicAnswer]] = []
        last: list[publicurl.PublicAnswer] = []

        def served() -> bool:
            at = datetime.now(UTC)
            answer = client.get(self.url, self.item.region_key)
            last[:] = [answer]
            if self._served(answer):
                streak.append((at, answer))
            else:
                streak.clear()
            return len(streak) >= self.item.consecutive

        ctx.wait(f"{self.url} served by {self.direction.to_region}", served,
                 every=self.item.interval_seconds)
        if streak:
            ctx.note(healthy_at=iso(streak[0][0]), checks=self.item.consecutive,
                     address=streak[0][1].address, served_by=streak[0][1].region)
        elif last:
            ctx.note(last_answer=last[0].status or last[0].error, served_by=last[0].region)

    def verify(self, ctx: StepContext) -> None:
        answer = self._client().get(self.url, self.item.region_key)
        if not self._served(answer):
            raise VerifyFailed(f"{self.url} answered {answer.status or answer.error} from "
                               f"{answer.region or 'an unknown region'}, expected "
                               f"{self.item.expect_status} from {self.direction.to_region}")
