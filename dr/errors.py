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


class RunNotFound(UsageError):
    """--resume named a run that has no journal."""


class StepError(DrError):
    """A step could not reach its postcondition."""


class VerifyFailed(StepError):
    """A step's postcondition does not hold after apply."""


class DeadlineExceeded(StepError):
    """A step ran past its timeout."""


class MalformedAnswer(StepError):
    """An AWS answer that could not be parsed. Not retried: it is not a known transient
    failure, and acting on a guess of what it said would be worse than stopping."""


class RegionUnavailable(DrError):
    """A region's regional APIs do not answer; steps that need it are skipped."""

    def __init__(self, region: str, reason: str) -> None:
        self.region = region
        self.reason = reason
        super().__init__(f"region {region} is not answering: {reason}")
