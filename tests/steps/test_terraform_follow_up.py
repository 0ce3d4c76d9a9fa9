"""Every failover, reprotect and failback report names the Terraform change for both stacks
(the `dr_state` they read), in report.json and report.md; the runbook documents say the
same; a dry run names none. The change itself is proven against real Terraform in
tests/terraform/test_after_failover.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dr.cli.main import main
from tests.steps.conftest import World


def terraform_follow_up(directory: Path) -> str:
    report = json.loads((directory / "report.json").read_text())
    found = [f for f in report["follow_ups"] if f.startswith("Terraform:")]
    assert len(found) == 1, report["follow_ups"]
    assert f"- follow-up: {found[0]}" in (directory / "report.md").read_text()
    return found[0]


def test_each_move_names_the_dr_state_for_both_stacks(
        small_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = ["--config", str(small_world.path), "--yes"]
    env = small_world.config["environment"]
    moves = [
        (["failover", "--to", "secondary"], "failover.md", "secondary", "false", "primary"),
        (["reprotect"], "reprotect.md", "secondary", "true", "primary"),
        (["failover", "--to", "primary"], "failback.md", "primary", "true", "secondary"),
    ]
    docs = tmp_path / "docs"
    assert main(["docs", "--config", str(small_world.path), "--out", str(docs)]) == 0
    for n, (command, document, active, protected, then) in enumerate(moves):
        out = tmp_path / f"run-{n}"
        assert main([*command, *cfg, "--report-dir", str(out)]) == 0, capsys.readouterr().out
        text = terraform_follow_up(out)
        assert f'`dr_state = {{ active = "{active}", protected = {protected} }}`' in text
        assert f"`terraform/environments/{env}/dr-state.tfvars`" in text
        assert "for terraform/primary and terraform/secondary" in text
        assert f"apply terraform/{active} first" in text and f"then terraform/{then}" in text
        # The runbook document of the move says the same, word for word.
        assert f"- {text}." in (docs / document).read_text()


def test_a_dry_run_names_no_terraform_change(small_world: World, tmp_path: Path) -> None:
    out = tmp_path / "plan"
    assert main(["plan", "--to", "secondary", "--config", str(small_world.path),
                 "--report-dir", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert not [f for f in report["follow_ups"] if f.startswith("Terraform:")]
