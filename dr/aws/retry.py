"""The one retry policy for AWS calls: tenacity, transient errors only, bounded by a deadline.

botocore's own retries are switched off (total_max_attempts=1) in every client `dr` makes, so
that attempts are not multiplied (botocore x tenacity) and every retry is visible in the
journal and the report, and bounded by the step's deadline rather than by a fixed count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "SlowDown", "PriorRequestNotComplete",
    "TransactionInProgressException", "EC2ThrottledException",
})
SERVER_CODES = frozenset({
    "InternalError", "InternalFailure", "InternalServerError", "ServiceUnavailable",
    "ServiceUnavailableException", "RequestTimeout", "RequestTimeoutException",
})


def error_code(exc: BaseException) -> str | None:
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "")
    return None


def is_no_answer(exc: BaseException) -> bool:
    """The endpoint did not answer at all: the signature of a region outage."""
    from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

    return isinstance(exc, ConnectTimeoutError | ReadTimeoutError | EndpointConnectionError)


def is_transient(exc: BaseException) -> bool:
    """Throttling, 5xx and connection-level failures; never a validation or state error."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = error_code(exc)
        return code in THROTTLING_CODES or code in SERVER_CODES or status >= 500
    return isinstance(exc, ConnectionError | HTTPClientError)


def call_with_retries(
    fn: Callable[[], T],
    *,
    deadline: float,
    max_attempts: int,
    on_retry: Callable[[int, BaseException, float], Any],
    retryable: Callable[[BaseException], bool] = is_transient,
) -> T:
    """Call `fn`, retrying transient failures with full-jitter exponential backoff.

    Stops after `max_attempts`, or when the next wait would pass `deadline` (monotonic).
    """
    import tenacity

    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        on_retry(state.attempt_number, exc, wait)

    remaining = max(0.0, deadline - time.monotonic())
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(retryable),
        wait=tenacity.wait_random_exponential(multiplier=0.2, max=8),
        stop=tenacity.stop_after_attempt(max_attempts) | tenacity.stop_before_delay(remaining),
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(fn)
