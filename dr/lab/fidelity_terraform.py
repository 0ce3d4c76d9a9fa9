"""moto fidelity patches that the Terraform emulator apply needs.

Each patch restores one documented AWS behaviour that the AWS provider (or the
S3 state backend) relies on. `apply()` installs them all and is idempotent.
"""

from __future__ import annotations

import functools

_applied = False


def _policy_conditions_scope_statements() -> None:
    """A policy statement whose Condition does not hold does not apply.

    AWS evaluates a statement only when its conditions match; an unmatched Deny
    is simply skipped ("If you specify multiple condition operators ... all must
    evaluate to true for the statement to apply", IAM User Guide,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html).
    moto instead turns any unmatched statement into an explicit deny, so the
    common TLS-only bucket policy (Deny when aws:SecureTransport is false) locks
    everyone out of the bucket, including the Terraform state backend.

    moto also skips operators it does not know, Bool among them, treating them as
    matched; Bool is evaluated here (a missing key fails Bool, passes BoolIfExists).

    Requests reach AWS over TLS (https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html),
    so aws:SecureTransport is "true" unless the caller says otherwise; moto's
    plain-HTTP listener is a test artefact, not an insecure client.
    """
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    original = IAMPolicyStatement.is_action_permitted

    def bool_conditions_hold(condition: dict, values: dict[str, str]) -> bool:
        for operator, pairs in condition.items():
            if operator not in ("Bool", "BoolIfExists"):
                continue
            for key, expected in pairs.items():
                wanted = {str(v).lower() for v in (expected if isinstance(expected, list) else [expected])}
                actual = values.get(key)
                if actual is None:
                    if operator == "Bool":
                        return False
                elif str(actual).lower() not in wanted:
                    return False
        return True

    @functools.wraps(original)
    def is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
        values = {"aws:SecureTransport": "true", **(incoming_condition_values or {})}
        condition = self._statement.get("Condition")
        if condition and not (bool_conditions_hold(condition, values) and self._check_conditions(values)):
            return PermissionResult.NEUTRAL
        return original(self, action, resource, principal, values)

    IAMPolicyStatement.is_action_permitted = is_action_permitted


def apply() -> None:
    global _applied
    if _applied:
        return
    _policy_conditions_scope_statements()
    _applied = True
