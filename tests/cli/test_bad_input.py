"""Bad input is refused before anything acts (exit 2, naming what is wrong, no run started):
times without a zone, a bare date, a future incident; a --report-dir that cannot be written;
DR_CONFIG set but empty; a YAML alias bomb and an oversized dr.yaml (once a hang and a
minute); a --resume that is not a run id; journals that are not dr journals."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dr.cli.main import main
from tests.cli.test_cli_basics import dr_script
from tests.support.contract import CONTRACT_YAML

RUN_ID = "2026-11-28T10-00-00Z-beef"


@pytest.fixture
def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DR_CONFIG", raising=False)
    # Nothing answers here: any AWS call would fail, so an exit 2 shows none was needed.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    (tmp_path / "dr.yaml").write_text(CONTRACT_YAML)
    return tmp_path


def no_run_started(root: Path) -> bool:
    return not (root / ".dr" / "runs").exists() or not any((root / ".dr" / "runs").iterdir())


@pytest.mark.parametrize(("value", "said"), [
    ("2026-11-24T21:40:00", "has no time zone"),
    ("20261128", "has no time of day"),
    ("2026-11-28", "has no time of day"),
    ("yesterday", "is not an ISO 8601 time"),
    # A year after the tests run (a fixed id: each pytest worker collects the same tests).
    (f"{datetime.now(UTC).year + 1}-01-01T00:00:00+00:00", "is later than now"),
])
def test_incident_start_must_be_a_past_moment_with_a_zone(
        estate: Path, capsys: pytest.CaptureFixture[str], value: str, said: str) -> None:
    code = main(["failover", "--to", "secondary", "--yes", "--incident-start", value])
    assert code == 2
    assert said in capsys.readouterr().err
    assert no_run_started(estate)


def test_an_unwritable_report_dir_is_refused_before_anything(
        estate: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (estate / "a-file").write_text("not a directory")
    code = main(["failover", "--to", "secondary", "--yes", "--report-dir",
                 str(estate / "a-file" / "reports")])
    assert code == 2
    assert "--report-dir" in capsys.readouterr().err
    assert no_run_started(estate)


def test_an_empty_dr_config_is_an_error(estate: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DR_CONFIG", "")
    assert main(["plan", "--to", "secondary"]) == 2
    assert "DR_CONFIG is set but empty" in capsys.readouterr().err


def test_a_yaml_alias_bomb_is_refused_at_once(estate: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    (estate / "bomb.yaml").write_text("\n".join(lines) + "\n")
    started = time.monotonic()
    done = dr_script("plan", "--to", "secondary", "--config", "bomb.yaml", cwd=estate)
    assert done.returncode == 2, done.stderr
    assert "alias" in done.stderr
    # Not a timing claim on speed: the old code never returned; the test's timeout says so.
    assert time.monotonic() - started < 30


def test_an_oversized_config_is_refused(estate: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    padding = "# " + "x" * 1000 + "\n"
    (estate / "big.yaml").write_text(CONTRACT_YAML + padding * 1100)
    assert main(["plan", "--to", "secondary", "--config", "big.yaml"]) == 2
    assert "larger than any estate's dr.yaml" in capsys.readouterr().err


@pytest.mark.parametrize("run_id", ["..", "../../etc", "/tmp", "x"])
def test_resume_takes_only_a_run_id(estate: Path, capsys: pytest.CaptureFixture[str],
                                    run_id: str) -> None:
    assert main(["failover", "--resume", run_id, "--yes"]) == 2
    assert "not a dr run id" in capsys.readouterr().err


def journal_at(root: Path, text: bytes) -> None:
    path = root / ".dr" / "runs" / RUN_ID / "journal.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(text)


STARTED = json.dumps({"event": "run.started", "at": "2026-11-28T10:00:00.000Z",
                      "run_id": RUN_ID, "command": "failover", "to": "secondary"})


@pytest.mark.parametrize(("text", "said"), [
    (b"[1,2,3]\n[4]\n", "line 1: not a journal record"),
    (b"\x00\x01\xff\xfe binary\n", "not UTF-8"),
    (b'{"event": "run.started", "at": "2026-11-28T10:00:00Z"}\n{}\n',
     "line 1: run.started lacks run_id, command, to"),
    (STARTED.encode() + b'\n{"event": "step.started", "at": "noon", "step": "x"}\n{}\n',
     "line 2: step.started: bad time 'noon'"),
    # A corrupt middle line must not hide what follows (a finished run would reopen).
    (STARTED.encode() + b'\n{"event": "step.fini\n'
     b'{"event": "run.finished", "at": "2026-11-28T10:05:00Z", "outcome": "succeeded"}\n',
     "line 2: not JSON"),
])
def test_a_malformed_journal_is_refused_naming_its_line(
        estate: Path, capsys: pytest.CaptureFixture[str], text: bytes, said: str) -> None:
    journal_at(estate, text)
    assert main(["failover", "--resume", RUN_ID, "--yes"]) == 2
    err = capsys.readouterr().err
    assert said in err, err
    assert "Traceback" not in err


def test_a_drill_in_production_needs_allow_prod(estate: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    (estate / "dr.yaml").write_text(CONTRACT_YAML.replace("environment: staging",
                                                          "environment: prod"))
    assert main(["drill", "--yes"]) == 2
    err = capsys.readouterr().err
    assert "production" in err and "--allow-prod" in err
    assert no_run_started(estate)


@pytest.mark.parametrize("command", [["drill"], ["reprotect"]])
def test_drill_and_reprotect_ask_on_a_terminal(estate: Path, command: list[str]) -> None:
    """A person at a terminal is asked (on stderr); 'n' changes nothing."""
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    os.write(leader, b"n\n")
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from dr.cli.main import main; sys.exit(main())",
         *command], cwd=estate, stdin=follower, capture_output=True, text=True, timeout=60)
    os.close(follower)
    os.close(leader)
    assert done.returncode == 2, done.stderr
    assert "[y/N]" in done.stderr and "not confirmed; nothing was changed" in done.stderr
    assert done.stdout == ""
    assert no_run_started(estate)
