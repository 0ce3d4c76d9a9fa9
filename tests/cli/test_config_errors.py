"""Bad dr.yaml files through the command line: each exits 2 with the key path (or the file and
line) named, shows no traceback, and changes nothing: no AWS call is made, no .dr/ appears.

Every case runs in-process through `dr.cli.main.main` for `plan` and `failover --yes`, with
botocore's one call path replaced by a recorder; a subset runs through the installed `dr`
console script with AWS pointed at a closed port, as an operator would meet it.
"""

from __future__ import annotations

import copy
import functools
import operator
import os
import subprocess
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.client
import pytest
import structlog
import yaml
from botocore.exceptions import ClientError

from dr.cli.main import main
from tests.support.contract import CONTRACT_YAML

CLOSED_PORT = "http://127.0.0.1:9"
DROP = object()
BASE = yaml.safe_load(CONTRACT_YAML)
HB_SECRET = {
    "table": "dr_heartbeat",
    "secret": {"primary": "arn:aws:secretsmanager:us-east-1:123456789012:secret:hb",
               "secondary": "arn:aws:secretsmanager:us-west-2:123456789012:secret:hb"},
}


def edited(*changes: tuple[tuple[str | int, ...], Any]) -> str:
    """The contract example with each (key path, value) set, or removed where value is DROP."""
    doc = copy.deepcopy(BASE)
    for (*parents, last), value in changes:
        holder = functools.reduce(operator.getitem, parents, doc)
        if value is DROP:
            del holder[last]
        else:
            holder[last] = value
    return yaml.safe_dump(doc, sort_keys=False)


def contract_line(number: int, replacement: str) -> str:
    """The contract example's text with line `number` (1-based) replaced."""
    lines = CONTRACT_YAML.splitlines()
    lines[number - 1] = replacement
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Case:
    id: str
    expect: tuple[str, ...]  # all of these, in one line of stderr
    text: str | None = None  # None: the config file does not exist
    via: str = "flag"  # how dr finds the file: --config, $DR_CONFIG, or ./dr.yaml
    directory: bool = False  # the config path is a directory
    usage: bool = False  # rejected by the option parser: a usage block, not one line

    @property
    def name(self) -> str:
        return "dr.yaml" if self.via == "default" else "bad.yaml"


CASES = [
    Case("unknown-top-level-key", ("colour: unknown key",), edited((("colour",), "red"))),
    Case("unknown-nested-key", ("dns[0].weight: unknown key",),
         edited((("dns", 0, "weight"), 10))),
    Case("unknown-key-in-sided-pair", ("notify.sns_topic_arn.tertiary: unknown key",),
         edited((("notify", "sns_topic_arn", "tertiary"), "arn:aws:sns:eu-west-1:1:x"))),
    Case("string-for-int", ("dns[0].ttl: must be an integer",),
         edited((("dns", 0, "ttl"), "sixty"))),
    Case("list-for-mapping", ("regions: must be a mapping",),
         edited((("regions",), ["us-east-1", "us-west-2"]))),
    Case("bool-for-int", ("services[0].active_count: must be an integer",),
         edited((("services", 0, "active_count"), True))),
    Case("float-for-int", ("services[0].active_count: must be an integer",),
         edited((("services", 0, "active_count"), 4.0))),
    Case("mapping-for-list", ("databases: must be a list",),
         edited((("databases",), BASE["databases"][0]))),
    Case("missing-top-level-key", ("targets: required",), edited((("targets",), DROP))),
    Case("missing-key-in-list-item", ("databases[0].secondary: required",),
         edited((("databases", 0, "secondary"), DROP))),
    Case("missing-version", ("version: required",), edited((("version",), DROP))),
    Case("wrong-version", ("version: must be 1",), edited((("version",), 2))),
    Case("bad-region", ("regions.primary: unknown AWS region 'mars-1'",),
         edited((("regions", "primary"), "mars-1"))),
    Case("equal-regions", ("regions.secondary: must differ from regions.primary",),
         edited((("regions", "secondary"), "us-east-1"))),
    Case("negative-ttl", ("dns[0].ttl: must be >= 0",), edited((("dns", 0, "ttl"), -1))),
    Case("negative-count", ("services[0].standby_count: must be >= 0",),
         edited((("services", 0, "standby_count"), -1))),
    Case("zero-rto", ("targets.rto_seconds: must be > 0",),
         edited((("targets", "rto_seconds"), 0))),
    Case("negative-rto", ("targets.rto_seconds: must be > 0",),
         edited((("targets", "rto_seconds"), -900))),
    Case("nan-rto", ("targets.rto_seconds: must be a finite number",),
         edited((("targets", "rto_seconds"), float("nan")))),
    Case("negative-rpo", ("targets.rpo_seconds: must be >= 0",),
         edited((("targets", "rpo_seconds"), -1))),
    Case("bad-url", ("health[0].secondary: must be an http:// or https:// URL",),
         edited((("health", 0, "secondary"), "api.usw2.timeline.example.net/health"))),
    Case("bad-expect-status", ("health[0].expect_status: must be <= 599",),
         edited((("health", 0, "expect_status"), 700))),
    Case("bad-record-type", ("dns[0].type: must be one of",),
         edited((("dns", 0, "type"), "CNAMEX"))),
    Case("bad-zone-id", ("dns[0].zone_id: must be a Route 53 hosted zone id",),
         edited((("dns", 0, "zone_id"), "z0123-abc"))),
    Case("bad-distribution-id", ("cdn[0].distribution_id: must be a CloudFront distribution id",),
         edited((("cdn", 0, "distribution_id"), "e2abc_def"))),
    Case("bad-rds-identifier", ("databases[0].primary: must be an RDS instance identifier",),
         edited((("databases", 0, "primary"), "1timeline--main"))),
    Case("bad-arn", ("notify.sns_topic_arn.primary: must be an ARN",),
         edited((("notify", "sns_topic_arn", "primary"), "dr-events"))),
    Case("arn-in-wrong-region",
         ("notify.sns_topic_arn.secondary: ARN is in region 'eu-west-1', not regions.secondary",),
         edited((("notify", "sns_topic_arn", "secondary"),
                 "arn:aws:sns:eu-west-1:123456789012:dr-events"))),
    Case("heartbeat-secret-in-wrong-region",
         ("databases[0].heartbeat.secret.primary: ARN is in region 'us-west-2'",),
         edited((("databases", 0, "heartbeat"), HB_SECRET),
                (("databases", 0, "heartbeat", "secret", "primary"),
                 HB_SECRET["secret"]["secondary"]))),
    Case("heartbeat-secret-and-dsn",
         ("databases[0].heartbeat: needs exactly one of 'secret' or 'dsn'",),
         edited((("databases", 0, "heartbeat"),
                 {**HB_SECRET, "dsn": {"primary": "host=a", "secondary": "host=b"}}))),
    Case("duplicate-entries", ("databases[1]: duplicates databases[0] (same name)",),
         edited((("databases",), BASE["databases"] * 2))),
    Case("duplicate-dns-record-other-spelling", ("dns[1]: duplicates dns[0]",),
         edited((("dns",), [BASE["dns"][0],
                            {**BASE["dns"][0], "name": "API.timeline.example.com."}]))),
    Case("duplicate-yaml-key", ("line 3, column 1", "duplicate key 'app'"),
         contract_line(3, "app: timeline-again")),
    Case("yaml-syntax-error", ("line 6, column", "YAML syntax error"),
         contract_line(6, "   secondary: us-west-2")),
    Case("yaml-forbidden-character", ("line 3", "unacceptable character #x0007"),
         contract_line(3, "environment: stag\x07ing")),
    Case("yaml-list-as-key", ("line 50", "a key must be a plain value"),
         CONTRACT_YAML + "? [a, b]\n: c\n"),
    Case("yaml-python-tag", ("line 50", "could not determine a constructor"),
         CONTRACT_YAML + "x: !!python/object/apply:os.system ['touch pwned']\n"),
    Case("empty-file", ("empty file",), ""),
    Case("comments-only", ("empty file",), "# dr.yaml for timeline, to be written\n"),
    Case("list-not-mapping", ("top level must be a mapping",), "- version: 1\n- app: x\n"),
    Case("missing-file", ("bad.yaml: file not found",)),
    Case("missing-file-from-env", ("bad.yaml: file not found",), via="env"),
    Case("missing-default-file", ("dr.yaml: file not found",), via="default"),
    Case("directory", ("'bad.yaml' is a directory",), directory=True, usage=True),
    Case("directory-from-env", ("bad.yaml: not a file",), via="env", directory=True),
    Case("several-errors-at-once",
         ("colour: unknown key", "databases[0].secondary: required", "dns[0].ttl: must be >= 0",
          "regions.primary: unknown AWS region 'mars-1'",
          "health[0].primary: must be an http:// or https:// URL"),
         edited((("colour",), "red"), (("databases", 0, "secondary"), DROP),
                (("dns", 0, "ttl"), -60), (("regions", "primary"), "mars-1"),
                (("health", 0, "primary"), "ftp://api.use1.timeline.example.net/health"))),
]

# A valid file whose run needs nothing but the (refused) AWS calls: no HTTP health checks.
OFFLINE_GOOD = edited((("health",), []), (("notify",), DROP), (("lock",), DROP))

COMMANDS = {
    "plan": ["plan", "--to", "secondary"],
    "failover": ["failover", "--to", "secondary", "--yes"],
    "drill": ["drill", "--dry-run"],
    "reprotect": ["reprotect"],
}


def prepare(case: Case, workdir: Path) -> tuple[list[str], dict[str, str]]:
    """Write the case's file into workdir; return the arguments and the $DR_CONFIG (if any)
    that name it."""
    path = workdir / case.name
    if case.directory:
        path.mkdir()
    elif case.text is not None:
        path.write_text(case.text, encoding="utf-8")
    args = ["--config", case.name] if case.via == "flag" else []
    return args, ({"DR_CONFIG": case.name} if case.via == "env" else {})


def assert_rejected(case: Case, code: int, out: str, err: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err and "Traceback" not in out
    assert case.name in err
    assert any(all(e in line for e in case.expect) for line in err.splitlines()), err
    if not case.usage:
        assert err.startswith(f"dr: {case.name}: ") and err.count("\n") == 1, err


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every AWS API call this process tries, refused; botocore sends them all through here."""
    calls: list[str] = []

    def refuse(client: Any, operation: str, params: dict[str, Any]) -> Any:
        calls.append(operation)
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "test"}}, operation)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refuse)
    return calls


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty current directory, AWS at a closed port, and structlog put back afterwards
    (the CLI points it at the captured stderr)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", CLOSED_PORT)
    saved = structlog.get_config()
    yield tmp_path
    structlog.configure(**saved)


@pytest.mark.parametrize("command", ["plan", "failover"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_config_exits_2_and_changes_nothing(
        case: Case, command: str, workdir: Path, aws_calls: list[str],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    args, dr_config = prepare(case, workdir)
    monkeypatch.delenv("DR_CONFIG", raising=False)
    for name, value in dr_config.items():
        monkeypatch.setenv(name, value)
    before = sorted(workdir.rglob("*"))

    code = main([*COMMANDS[command], *args])

    captured = capsys.readouterr()
    assert_rejected(case, code, captured.out, captured.err)
    assert aws_calls == []
    assert sorted(workdir.rglob("*")) == before


def test_the_recorder_sees_aws_calls_of_a_valid_config(
        workdir: Path, aws_calls: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """The control for `aws_calls == []` above: the same set-up with a good file does call."""
    (workdir / "good.yaml").write_text(OFFLINE_GOOD)

    code = main([*COMMANDS["plan"], "--config", "good.yaml"])

    assert code != 2, capsys.readouterr().err
    assert aws_calls


def test_empty_config_path_is_an_error_not_the_default(
        workdir: Path, aws_calls: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`--config "$CFG"` with CFG unset must not act on whatever dr.yaml is here."""
    (workdir / "dr.yaml").write_text(OFFLINE_GOOD)

    code = main([*COMMANDS["plan"], "--config", ""])

    assert code == 2, capsys.readouterr().err
    assert aws_calls == []


def console_script() -> str:
    path = Path(sysconfig.get_path("scripts")) / "dr"
    assert path.is_file(), f"the dr console script is not installed at {path}: pip install -e ."
    return str(path)


SUBPROCESS = [
    ("unknown-top-level-key", "plan"),
    ("missing-key-in-list-item", "failover"),
    ("yaml-syntax-error", "drill"),
    ("empty-file", "reprotect"),
    ("missing-file", "failover"),
    ("directory-from-env", "plan"),
    ("duplicate-yaml-key", "drill"),
    ("several-errors-at-once", "failover"),
]
BY_ID = {case.id: case for case in CASES}


@pytest.mark.parametrize(("case_id", "command"), SUBPROCESS,
                         ids=[f"{c}-{cmd}" for c, cmd in SUBPROCESS])
def test_console_script_exits_2_without_traceback(case_id: str, command: str,
                                                   tmp_path: Path) -> None:
    case = BY_ID[case_id]
    args, dr_config = prepare(case, tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "DR_CONFIG"}
    env.update(dr_config, AWS_ENDPOINT_URL=CLOSED_PORT, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    before = sorted(tmp_path.rglob("*"))

    result = subprocess.run([console_script(), *COMMANDS[command], *args], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=30, check=False)

    assert_rejected(case, result.returncode, result.stdout, result.stderr)
    assert sorted(tmp_path.rglob("*")) == before
