"""Typed errors. The CLI's error boundary turns each into one line and its exit code."""

from __future__ import annotations


class DrError(Exception):
    """Base of every error `dr` reports to an operator."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class UsageError(DrError):
    """Bad command-line usage; nothing was changed."""

    exit_code = 2


class ConfigError(DrError):
    """One or more problems in dr.yaml, each naming its key path; nothing was changed."""

    exit_code = 2

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        joined = "; ".join(problems)
        super().__init__(f"{source}: {joined}")


class NotReady(DrError):
    """Readiness checks failed; nothing was changed."""

    exit_code = 3

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("not ready: " + "; ".join(problems))


class LockHeld(DrError):
    """Another run holds the lock for this app/environment; nothing was changed."""

    exit_code = 5

    def __init__(self, key: str, holder: str, detail: str = "") -> None:
        self.key = key
        self.holder = holder
        suffix = f" ({detail})" if detail else ""
        super().__init__(
            f"lock {key} is held by run {holder}{suffix}",
            hint=f"wait for it, or if that run is dead: --force-unlock {holder}",
        )


class LockLost(DrError):
    """The run's lock was taken by another run, or could not be renewed for a whole lease:
    the run stops before its next mutating call."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"lock {key} lost ({reason}): stopped before changing anything more",
                         hint="see which run holds it now before resuming this one")


class RunNotFound(UsageError):
    """--resume named a run that has no journal."""


class JournalCorrupt(UsageError):
    """--resume named a journal that is not a well-formed dr journal; nothing was changed."""


class NotConfirmed(UsageError):
    """The operator did not confirm; nothing was changed."""

    def __init__(self) -> None:
        super().__init__("not confirmed; nothing was changed")


class StepError(DrError):
    """A step could not reach its postcondition."""


class VerifyFailed(StepError):
    """A step's postcondition does not hold after apply."""


class DeadlineExceeded(StepError):
    """A step ran past its timeout."""


class SwitchoverFailed(StepError):
    """A planned move could not prove that the replica holds every commit of the old primary
    within its timeout: the old primary was unfenced (so it serves again) and the run rolls
    back what the phase changed beside it (contract 1.1, "Switchover")."""


class MalformedAnswer(StepError):
    """An AWS answer that could not be parsed. Not retried: it is not a known transient
    failure, and acting on a guess of what it said would be worse than stopping."""


class ControlPlaneUnavailable(DrError):
    """A global service's control plane (homed in us-east-1) does not answer while the run
    leaves us-east-1: a step that needs it fails after a bounded wait, naming it; the
    steps of the recovery region go on, and the run can be resumed once it answers."""

    NAMES = {"route53": "Route 53", "cloudfront": "CloudFront", "iam": "IAM",
             "sts": "STS (global endpoint)", "organizations": "Organizations"}

    def __init__(self, service: str, reason: str) -> None:
        self.service = service
        self.reason = reason
        name = self.NAMES.get(service, service)
        super().__init__(f"the {name} control plane (homed in us-east-1) is not answering: "
                         f"{reason}")


class EndpointUnavailable(DrError):
    """One endpoint of a multi-endpoint service (an ARC cluster's) does not answer: the
    caller tries the next."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"endpoint {url} is not answering: {reason}")


class RegionUnavailable(DrError):
    """A region's regional APIs do not answer; steps that need it are skipped."""

    def __init__(self, region: str, reason: str) -> None:
        self.region = region
        self.reason = reason
        super().__init__(f"region {region} is not answering: {reason}")


class LabDependencyMismatch(UsageError):
    """A library whose internals the lab patches is not a version the patches were written
    for; nothing was patched."""
