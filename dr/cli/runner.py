"""Runs a runbook command for the CLI: builds the Runner from the library, prints, exits."""

from __future__ import annotations

from typing import Any

from dr.cli.render import run_summary


def execute(config: Any, request: Any) -> int:
    from dr import runbooks
    from dr.runbook.run import Runner
    from dr.steps import sns

    runner = Runner(config, planner=runbooks.phases, notifier=sns.publish)
    result = runner.run(request)
    run_summary(result.report, result.paths)
    return result.exit_code
