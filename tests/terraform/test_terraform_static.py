"""Fast Terraform checks: formatting, validation of every root stack, module tests."""

from __future__ import annotations

import pytest
import terraform_cli as tfcli

pytestmark = pytest.mark.needs("terraform")


def test_fmt_is_clean():
    result = tfcli.run(["fmt", "-check", "-recursive", "-no-color"], tfcli.TERRAFORM_DIR)
    assert result.returncode == 0, f"files need terraform fmt:\n{result.stdout}"


@pytest.mark.parametrize("stack", tfcli.ROOT_STACKS)
def test_root_stack_validates(stack):
    cwd = tfcli.TERRAFORM_DIR / stack
    tfcli.check(tfcli.run(tfcli.init_args("-backend=false"), cwd), f"init {stack}")
    tfcli.check(tfcli.run(["validate", "-no-color"], cwd), f"validate {stack}")


@pytest.mark.slow  # 25 s; .ci/terraform-checks runs the same `terraform test` too
def test_module_properties():
    """terraform/tests: each module's seed properties on the mock provider."""
    cwd = tfcli.TERRAFORM_DIR / "tests"
    tfcli.check(tfcli.run(tfcli.init_args("-backend=false"), cwd), "init tests")
    result = tfcli.check(tfcli.run(["test", "-no-color"], cwd), "terraform test (modules)")
    assert "0 failed" in result.stdout
