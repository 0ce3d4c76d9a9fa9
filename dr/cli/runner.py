"""Runs a runbook command for the CLI: builds the Runner from the library, prints, exits."""

from __future__ import annotations

from typing import Any

import click

from dr.cli.render import run_summary


def execute(config: Any, request: Any) -> int:
    from dr import logs, runbooks
    from dr.runbook.run import Runner
    from dr.steps import sns

    # Every command that runs a runbook takes --log-format (options.common).
    if logs.draws_board(click.get_current_context().params.get("log_format")):
        from dr.cli.board import RunBoard

        with RunBoard() as board:
            runner = Runner(config, planner=board.progress.planner(runbooks.phases),
                            notifier=sns.publish, after_append=board.progress.record)
            result = board.run(runner, request)
    else:
        result = Runner(config, planner=runbooks.phases, notifier=sns.publish).run(request)
    if result.already_finished:
        click.echo(f"run {request.resume} had already finished "
                   f"({result.report['outcome']}); nothing was sent to AWS", err=True)
    run_summary(result.report, result.paths)
    if result.report.get("resumable"):
        click.echo(f"dr: a control plane homed in us-east-1 did not answer; the steps that "
                   "need it failed, the rest is done. When it answers, finish with:\n"
                   f"  dr {result.report['command']} --resume {result.report['run_id']} "
                   f"--config {config.source}", err=True)
    if result.outcome == "interrupted":
        report = result.report
        click.echo(f"dr: interrupted by {report['interrupted_by']}; changed so far: "
                   f"{', '.join(report['changed']) or 'nothing'}. Continue with:\n"
                   f"  dr {report['command']} --resume {report['run_id']} "
                   f"--config {config.source}", err=True)
    return result.exit_code
