"""SSM Parameter Store: switch the application's parameters in the recovery region."""

from __future__ import annotations

import json
import shlex
from typing import Any

from dr.config.model import Parameter
from dr.errors import VerifyFailed
from dr.runbook.context import StepContext
from dr.runbook.steptype import Manual, StepType, register


@register
class PutParameter(StepType):
    name = "ssm.put-parameter"
    action = "set"
    reads = "parameters"
    acts_in = "to"
    typical_seconds = 1.0
    timeout_seconds = 120.0
    iam_actions = ("ssm:GetParameter", "ssm:PutParameter")
    summary = "Set the parameter in the recovery region to its recovery-region value."
    why = ("After the databases are promoted (the application must not be pointed at a "
           "read-only replica) and before traffic moves.")
    manual = Manual(
        procedure="""```bash
# The value goes in a file, not on the command line: the AWS CLI v1 would fetch a value
# that is a URL and store the page (cli_follow_urlparam).
cat > parameter.json <<'JSON'
{value_json}
JSON
CURRENT=$(aws ssm get-parameter --region {region} --name {name_sh} --with-decryption \\
  --query Parameter.Value --output text)
if [ "$CURRENT" = {value_sh} ]; then
  echo "{name} in {region} is set already"
else
  aws ssm put-parameter --region {region} --name {name_sh} \\
    --cli-input-json file://parameter.json --query Version --output text
fi
# When it was set: a service whose tasks started before must deploy anew (ecs.scale-up).
SET_AT=$(aws ssm get-parameter --region {region} --name {name_sh} \\
  --query Parameter.LastModifiedDate --output text)
if [ -z "${{PARAMS_SET_AT:-}}" ] || [[ "$SET_AT" > "$PARAMS_SET_AT" ]]; then
  PARAMS_SET_AT=$SET_AT
fi
```""",
        verify="""```bash
CURRENT=$(aws ssm get-parameter --region {region} --name {name_sh} --with-decryption \\
  --query Parameter.Value --output text)
if [ "$CURRENT" = {value_sh} ]; then
  echo "ok: {name} in {region} is set"
else
  echo "NOT SET: {name} in {region} is $CURRENT" >&2; false
fi
```""",
        undo="""```bash
cat > parameter.json <<'JSON'
{previous_json}
JSON
aws ssm put-parameter --region {region} --name {name_sh} \\
  --cli-input-json file://parameter.json --query Version --output text
```""")

    item: Parameter

    @property
    def key(self) -> str:
        return self.item.name

    @property
    def target(self) -> str:
        return self.item.side(self.direction.to)

    def manual_values(self) -> dict[str, Any]:
        previous = self.item.side(self.direction.from_)
        return {**super().manual_values(), "name": self.item.name,
                "name_sh": shlex.quote(self.item.name), "value_sh": shlex.quote(self.target),
                "value_json": json.dumps({"Value": self.target, "Overwrite": True}),
                "previous_json": json.dumps({"Value": previous, "Overwrite": True})}

    def plan(self) -> str:
        return f"set {self.item.name} in {self.region} to {self.target!r}"

    def _current(self, ctx: StepContext) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return ctx.aws.client("ssm", self.region).get_parameter(
                Name=self.item.name, WithDecryption=True)["Parameter"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ParameterNotFound":
                return None
            raise

    def apply(self, ctx: StepContext) -> None:
        current = self._current(ctx)
        if current is not None and current["Value"] == self.target:
            ctx.note(already_done=True)
            return
        params: dict[str, Any] = {"Name": self.item.name, "Value": self.target,
                                  "Overwrite": True}
        if current is None:
            params["Type"] = "String"
        ctx.aws.client("ssm", self.region).put_parameter(**params)
        ctx.note(previous_value_known=current is not None)

    def verify(self, ctx: StepContext) -> None:
        current = self._current(ctx)
        if current is None or current["Value"] != self.target:
            raise VerifyFailed(f"{self.item.name} in {self.region} is not {self.target!r}")

    def rollback(self, ctx: StepContext) -> None:
        ctx.aws.client("ssm", self.region).put_parameter(
            Name=self.item.name, Value=self.item.side(self.direction.from_), Overwrite=True)
