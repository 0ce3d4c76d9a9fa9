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


def _application_autoscaling_tags() -> None:
    """Application Auto Scaling scalable targets carry tags.

    RegisterScalableTarget accepts Tags, and TagResource, UntagResource and
    ListTagsForResource manage them by the target's ARN
    (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_ListTagsForResource.html).
    moto answers ListTagsForResource with a 500, which the AWS provider calls
    after every create and on every refresh of aws_appautoscaling_target.
    """
    import json

    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

    def tags_of(response) -> dict[str, dict[str, str]]:
        backend = response.applicationautoscaling_backend
        if not hasattr(backend, "fidelity_tags"):
            backend.fidelity_tags = {}
        return backend.fidelity_tags

    original_register = ApplicationAutoScalingResponse.register_scalable_target

    @functools.wraps(original_register)
    def register_scalable_target(self):
        body = original_register(self)
        tags = self._get_param("Tags")
        if tags:
            tags_of(self).setdefault(json.loads(body)["ScalableTargetARN"], {}).update(tags)
        return body

    def list_tags_for_resource(self):
        return json.dumps({"Tags": tags_of(self).get(self._get_param("ResourceARN"), {})})

    def tag_resource(self):
        tags_of(self).setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags") or {})
        return "{}"

    def untag_resource(self):
        current = tags_of(self).get(self._get_param("ResourceARN"), {})
        for key in self._get_param("TagKeys") or []:
            current.pop(key, None)
        return "{}"

    ApplicationAutoScalingResponse.register_scalable_target = register_scalable_target
    ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource
    ApplicationAutoScalingResponse.tag_resource = tag_resource
    ApplicationAutoScalingResponse.untag_resource = untag_resource


def _server_access_log_policy_check() -> None:
    """S3 accepts a logging target whose bucket policy lets the logging service write.

    PutBucketLogging succeeds when the target bucket's policy allows
    logging.s3.amazonaws.com s3:PutObject on the target prefix
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html#grant-log-delivery-permissions-general),
    whatever other statements the policy holds. moto's check crashes (500) on any
    statement whose Principal is the string "*", the usual form of a TLS-only
    Deny, and only accepts a Resource given as one string.
    """
    import json

    from moto.s3.models import FakeBucket

    def grants_log_delivery(target_bucket, target_prefix):
        if not target_bucket.policy:
            return False
        prefix_arn = f"arn:{target_bucket.partition}:s3:::{target_bucket.name}/"
        for statement in json.loads(target_bucket.policy.decode())["Statement"]:
            principal = statement.get("Principal")
            services = principal.get("Service", []) if isinstance(principal, dict) else []
            services = [services] if isinstance(services, str) else services
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            resources = statement.get("Resource", [])
            resources = [resources] if isinstance(resources, str) else resources
            if (
                statement.get("Effect") == "Allow"
                and "logging.s3.amazonaws.com" in services
                and any(a in ("s3:PutObject", "s3:*") for a in actions)
                and any(
                    r.endswith("*") and (prefix_arn + (target_prefix or "")).startswith(r[:-1])
                    for r in resources
                )
            ):
                return True
        return False

    FakeBucket._log_permissions_enabled_policy = staticmethod(grants_log_delivery)


def apply() -> None:
    global _applied
    if _applied:
        return
    _policy_conditions_scope_statements()
    _application_autoscaling_tags()
    _server_access_log_policy_check()
    _applied = True
