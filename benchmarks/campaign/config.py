"""config: the bad-configuration corpus; exit 2, the cause named, no AWS call, no file."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path
from typing import Any

from campaign.world import World


def campaign_config(world: World, quick: bool) -> dict[str, Any]:
    import botocore.client
    import structlog
    from botocore.exceptions import ClientError

    from dr.cli.main import main as dr_main
    from tests.cli import test_config_errors as corpus

    cases = corpus.CASES[:6] if quick else corpus.CASES
    rows = []
    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def refuse(client: Any, operation: str, params: dict[str, Any]) -> Any:
        calls.append(operation)
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "campaign"}}, operation)

    saved_cwd, saved_env = os.getcwd(), dict(os.environ)
    saved_log = structlog.get_config()
    botocore.client.BaseClient._make_api_call = refuse
    try:
        for case in cases:
            for command in ("plan", "failover"):
                directory = Path(tempfile.mkdtemp(prefix="dr-badcfg-", dir=world.work))
                os.chdir(directory)
                os.environ.pop("DR_CONFIG", None)
                os.environ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
                args, dr_config = corpus.prepare(case, directory)
                os.environ.update(dr_config)
                before = sorted(directory.rglob("*"))
                calls.clear()
                out, err = io.StringIO(), io.StringIO()
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    try:
                        code = dr_main([*corpus.COMMANDS[command], *args])
                    except SystemExit as exc:
                        code = exc.code if isinstance(exc.code, int) else 1
                problem = None
                try:
                    corpus.assert_rejected(case, code, out.getvalue(), err.getvalue())
                except AssertionError as exc:
                    problem = f"rejection: {exc}"[:300]
                if calls:
                    problem = f"AWS calls made: {calls}"
                if sorted(directory.rglob("*")) != before:
                    problem = "files changed"
                rows.append({"case": case.id, "command": command, "exit_code": code,
                             "message": err.getvalue().strip().splitlines()[0][:200]
                             if err.getvalue().strip() else "",
                             "passed": problem is None, "problem": problem})
                if problem:
                    print(f"  {case.id} ({command}): FAIL {problem}", flush=True)
    finally:
        botocore.client.BaseClient._make_api_call = original
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        structlog.configure(**saved_log)
    passed = sum(r["passed"] for r in rows)
    print(f"  bad configs: {passed}/{len(rows)} rejected with exit 2, the cause named, no AWS "
          "call, no file", flush=True)
    return {"cases": len(cases), "tried": len(rows), "passed": passed, "rows": rows}
