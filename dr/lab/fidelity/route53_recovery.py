"""Route 53 health checks of type RECOVERY_CONTROL, as AWS runs them: the check carries the
ARN of an ARC routing control, and is healthy exactly while that control is On. moto
accepts `RoutingControlArn` and drops it; here it is kept, shown by GetHealthCheck, and the
lab's DNS (its health checkers) reads the control's state from the lab's ARC cluster through
`set_routing_controls`.
https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html
https://docs.aws.amazon.com/r53recovery/latest/dg/routing-control.failover-different-accounts.html
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.route53.models import HealthCheck
from moto.route53.responses import Route53

from dr.lab.fidelity.layer import layer


def set_routing_controls(state_of: Callable[[str], str | None] | None) -> None:
    """Where RECOVERY_CONTROL health checks read their control's state (the lab's ARC
    cluster's `state_of`), or None: such checks are then unhealthy, as with no cluster."""
    with layer.lock:
        layer.routing_controls = state_of


def routing_control_on(arn: str | None) -> bool:
    state_of = layer.routing_controls
    return bool(arn and state_of and state_of(arn) == "On")


def install() -> None:
    create = Route53.create_health_check
    config_of = HealthCheck.health_check_config.fget

    @functools.wraps(create)
    def create_health_check(self: Route53) -> Any:
        result = create(self)
        arn = (self._get_param("HealthCheckConfig") or {}).get("RoutingControlArn")
        result.result["HealthCheck"].routing_control_arn = arn
        return result

    def health_check_config(self: HealthCheck) -> dict[str, Any]:
        config: dict[str, Any] = config_of(self)
        if self.type_ == "RECOVERY_CONTROL":
            config["RoutingControlArn"] = getattr(self, "routing_control_arn", None)
        return config

    Route53.create_health_check = create_health_check  # type: ignore[method-assign]
    HealthCheck.health_check_config = property(health_check_config)  # type: ignore[assignment]
