"""The command line's surface: every contract command is there with --help, --version, a
--help that does not load boto3, and usage errors that exit 2 before anything is read."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import dr
from dr.cli.main import main
from tests.support.contract import CONTRACT_YAML

CONTRACT_COMMANDS = ["plan", "failover", "drill", "reprotect", "status", "docs", "iam-policy",
                     "gameday", "heartbeat", "config", "lab"]
# Commands dr adds (README, "The interface").
ADDED_COMMANDS = ["runs"]
RUN_COMMANDS = ["failover", "drill"]


def dr_script(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    script = Path(sysconfig.get_path("scripts")) / "dr"
    assert script.is_file(), f"the dr console script is not installed at {script}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "DR_CONFIG"}
    env.update(AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    return subprocess.run([str(script), *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=30, check=False)


def test_help_lists_every_contract_command(tmp_path: Path) -> None:
    result = dr_script("--help", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    section = result.stdout.split("Commands:", 1)[1]
    listed = [line.split()[0] for line in section.splitlines() if line.startswith("  ")
              and not line.startswith("   ")]
    assert sorted(listed) == sorted(CONTRACT_COMMANDS + ADDED_COMMANDS)
    assert [c for c in listed if c in CONTRACT_COMMANDS] == CONTRACT_COMMANDS


def test_version_is_the_package_version(tmp_path: Path) -> None:
    result = dr_script("--version", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"dr, version {dr.__version__}"
    assert dr.__version__ == importlib.metadata.version("dr-toolkit")


def test_help_does_not_import_boto3() -> None:
    probe = ("import sys\nfrom dr.cli.main import main\nmain(['--help'])\n"
             "print('boto3' in sys.modules, 'botocore' in sys.modules)")

    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=30, check=True)

    assert result.stdout.splitlines()[-1] == "False False"


@pytest.mark.parametrize("command", CONTRACT_COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0

    text = capsys.readouterr().out
    assert text.startswith(f"Usage: dr {command} ")
    for option in ("--config", "--report-dir", "--log-format"):  # options every command takes
        assert option in text
    if command in RUN_COMMANDS:
        for option in ("--incident-start", "--accept-data-loss", "--force-unlock"):
            assert option in text


@pytest.mark.parametrize(("args", "message"), [
    (["failover"], "--to is required"),
    (["failover", "--to", "secondary", "--yes", "--incident-start", "notatime"],
     "'notatime' is not an ISO 8601 time"),
    (["drill", "--dry-run", "--incident-start", "2026-13-45T00:00:00Z"],
     "is not an ISO 8601 time"),
    (["plan", "--to", "elsewhere"], "Invalid value for '--to'"),
    (["failover", "--to", "secondary", "--log-format", "xml"], "Invalid value for '--log-format'"),
    (["nosuch"], "No such command 'nosuch'"),
], ids=["failover-without-to-or-resume", "bad-incident-start", "impossible-incident-start",
        "bad-region-role", "bad-log-format", "unknown-command"])
def test_usage_error_exits_2_before_reading_config(
        args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # no dr.yaml here: a usage error must not get as far as that

    code = main(args)

    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "dr.yaml" not in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_usage_error_through_the_console_script(tmp_path: Path) -> None:
    result = dr_script("failover", "--to", "secondary", "--incident-start", "notatime",
                       cwd=tmp_path)

    assert result.returncode == 2
    assert "'notatime' is not an ISO 8601 time" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_failover_not_confirmed_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "dr.yaml").write_text(CONTRACT_YAML)

    result = dr_script("failover", "--to", "secondary", cwd=tmp_path, stdin="n\n")

    assert result.returncode == 2, result.stderr
    # The question goes to stderr: stdout carries results only.
    assert result.stdout == ""
    assert "Fail over timeline/staging to secondary (us-west-2)" in result.stderr
    assert "not confirmed; nothing was changed" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["dr.yaml"]
