"""The runbook documents' procedures by hand, run as written with the real AWS CLI.

`dr docs --config` renders the documents for an estate's dr.yaml. The "If `dr` itself cannot
run" section of the failover, reprotect and failback documents (the region probe, then every
step's commands and its verification, the same text as the step's own section) runs in one
bash per document, in order, as an operator pastes it: `set -euo pipefail`, so a command that
fails fails the test, and no default region, so every command must name its own. What the
contract says a failover leaves behind is then read with boto3 straight from the emulator,
not through `dr`, and a second run of the same document must change nothing.

Around it: a render with a dr.yaml leaves no `<PLACEHOLDER>` and every block parses; a fence
of two security groups is undone by its Undo block; the retire block waits out a rename that
RDS does not show yet. The lab's health checks keep only their regional URLs here: a public
URL (`health.user-path`) is resolved by the system's resolver, and a test may reach nothing
outside 127.0.0.0/8. The runs take minutes (the AWS CLI starts in about a second): `slow`.
"""

from __future__ import annotations

import os
import re
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dr import config as dr_config
from dr.cli.main import main
from dr.lab import fidelity
from dr.lab.estate import Shape
from dr.lab.timing import INSTANT, TimingProfile
from dr.steps.rds import FENCE_GROUP, FENCE_TAG
from tests.steps.conftest import build
from tests.support import end_state
from tests.support.lab_aws import LabAws

needs_tools = pytest.mark.needs("aws", "jq", "curl")

EXAMPLE = Path(__file__).resolve().parents[1] / "meta" / "example.dr.yaml"
BY_HAND = "## If `dr` itself cannot run"
PLACEHOLDER = re.compile(r"<[A-Za-z][A-Za-z0-9_\-]*>")
BASH = re.compile(r"^```bash\n(.*?)^```$", re.S | re.M)
ENTRY = re.compile(r"^\*\*[\d.]+\.\*\* `([^`]+)`", re.M)


# --- the documents -----------------------------------------------------------------------


def render(config_path: Path, out: Path) -> dict[str, str]:
    assert main(["docs", "--config", str(config_path), "--out", str(out)]) == 0
    return {p.name: p.read_text() for p in sorted(out.glob("*.md"))}


def by_hand(document: str) -> list[tuple[str, str]]:
    """(step id, or "probe" before the first step; bash block) of the section an operator
    follows when `dr` cannot run, in its order."""
    section = document[document.index(BY_HAND):]
    starts = [(m.start(), m.group(1)) for m in ENTRY.finditer(section)]
    blocks = [("probe", b) for b in BASH.findall(section[:starts[0][0]])]
    for (start, step), (end, _) in zip(starts, [*starts[1:], (len(section), "")], strict=True):
        blocks += [(step, b) for b in BASH.findall(section[start:end])]
    return blocks


def undo(document: str, step_id: str) -> list[str]:
    """The bash blocks of a step's Undo, from the step's own section."""
    section = document[document.index(f": `{step_id}`"):]
    section = section[section.index("#### Undo"):]
    return BASH.findall(section[:section.index("<a id=") if "<a id=" in section else None])


def assert_every_block_is_run(document: str) -> None:
    """Every bash block of the document is in the section that runs, or an Undo."""
    run = {b for _, b in by_hand(document)}
    steps = document[document.index("## Steps"):document.index(BY_HAND)]
    for part in re.split(r"^<a id=", steps, flags=re.M):
        undo_at = part.find("#### Undo")
        forward = part if undo_at < 0 else part[:undo_at]
        for block in BASH.findall(forward):
            assert block in run, f"not run by the test:\n{block}"


# --- the operator's shell ----------------------------------------------------------------


def shell_env(endpoint_url: str, home: Path) -> dict[str, str]:
    """An operator's environment: credentials and the lab's endpoint; no default region,
    no profile or config file of this machine's user."""
    home.mkdir(parents=True, exist_ok=True)
    return {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8",
            "AWS_ACCESS_KEY_ID": "lab", "AWS_SECRET_ACCESS_KEY": "lab",
            "AWS_ENDPOINT_URL": endpoint_url, "AWS_PAGER": "",
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}


def run(blocks: list[str], env: dict[str, str], cwd: Path) -> str:
    """The blocks in one bash, in order; what it printed. A failing command fails the test,
    naming the block it was in."""
    script = ["set -euo pipefail"]
    for n, block in enumerate(blocks):
        script += [f"echo '>>> block {n}' >&2", block]
    done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)
    said = done.stdout + done.stderr
    if done.returncode != 0:
        started = re.findall(r"^>>> block (\d+)$", done.stderr, re.M)
        block = blocks[int(started[-1])] if started else "(none)"
        pytest.fail(f"a command failed (exit {done.returncode}) in:\n{block}\n--- output:\n"
                    f"{said[-4000:]}", pytrace=False)
    return said


# --- reading the estate, independently of dr -------------------------------------------


def snapshot(aws: LabAws, config: dict[str, Any]) -> dict[str, Any]:
    """Everything the procedures may change, read straight from the emulator: a second run
    that changes nothing leaves it equal (ids of new groups, deployments, parameter versions
    and CloudFront ETags included)."""
    state: dict[str, Any] = {}
    for region in config["regions"].values():
        rds = aws.client("rds", region)
        for db in rds.describe_db_instances()["DBInstances"]:
            tags = rds.list_tags_for_resource(ResourceName=db["DBInstanceArn"])["TagList"]
            state[f"rds {region} {db['DBInstanceIdentifier']}"] = (
                db["DBInstanceStatus"], db.get("ReadReplicaSourceDBInstanceIdentifier"),
                [g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]],
                sorted((t["Key"], t["Value"]) for t in tags))
        for group in aws.client("ec2", region).describe_security_groups()["SecurityGroups"]:
            state[f"sg {region} {group['GroupId']}"] = (
                group["GroupName"], len(group["IpPermissions"]),
                len(group["IpPermissionsEgress"]))
        for svc in config["services"]:
            found = aws.client("ecs", region).describe_services(
                cluster=svc["cluster"], services=[svc["service"]])["services"][0]
            state[f"ecs {region} {svc['service']}"] = (
                found["desiredCount"], sorted(d["id"] for d in found["deployments"]))
        for param in config["parameters"]:
            found = aws.client("ssm", region).get_parameter(Name=param["name"])["Parameter"]
            state[f"ssm {region} {param['name']}"] = (found["Value"], found["Version"])
    for record in config["dns"]:
        state[f"dns {record['zone_id']}"] = end_state.record_values(aws, record["zone_id"])
    for cdn in config["cdn"]:
        found = aws.client("cloudfront").get_distribution_config(Id=cdn["distribution_id"])
        state[f"cdn {cdn['distribution_id']}"] = (found["ETag"], end_state.origins(
            aws, cdn["distribution_id"]))
    return state


def groups(aws: LabAws, region: str, identifier: str) -> list[str]:
    instance = end_state.database(aws, region, identifier)
    return [g["VpcSecurityGroupId"] for g in instance["VpcSecurityGroups"]]


def fence_tag(aws: LabAws, region: str, identifier: str) -> str | None:
    arn = end_state.database(aws, region, identifier)["DBInstanceArn"]
    tags = aws.client("rds", region).list_tags_for_resource(ResourceName=arn)["TagList"]
    return next((t["Value"] for t in tags if t["Key"] == FENCE_TAG), None)


def fenced(aws: LabAws, region: str, identifier: str) -> bool:
    ids = groups(aws, region, identifier)
    found = aws.client("ec2", region).describe_security_groups(GroupIds=ids)["SecurityGroups"]
    return [g["GroupName"] for g in found] == [FENCE_GROUP]


def status(url: str) -> int | str:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError as exc:
        return f"no answer: {exc}"


def assert_healthy(config: dict[str, Any], role: str) -> None:
    for check in config["health"]:
        assert status(check[role]) == check["expect_status"], check[role]


# --- the tests ---------------------------------------------------------------------------


def test_a_config_render_leaves_no_placeholder_and_every_block_parses(tmp_path: Path) -> None:
    rendered = render(EXAMPLE, tmp_path / "docs")
    for name, text in rendered.items():
        assert not PLACEHOLDER.findall(text), f"{name}: {sorted(set(PLACEHOLDER.findall(text)))}"
        for block in BASH.findall(text):
            parsed = subprocess.run(["bash", "-n"], input=block, capture_output=True, text=True)
            assert parsed.returncode == 0, f"{name}: {parsed.stderr}\n{block}"
    for name in ("failover.md", "reprotect.md", "failback.md"):
        assert_every_block_is_run(rendered[name])
    assert "answers its expected status" not in rendered["reprotect.md"]  # no health step


@needs_tools
@pytest.mark.slow
def test_two_groups_fenced_by_hand_twice_then_undone(aws: LabAws, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The fence of a database with two security groups, by hand: the tag names both, a
    second run changes nothing, and the Undo gives both back (a second Undo: nothing)."""
    monkeypatch.chdir(tmp_path)
    world = build(aws, tmp_path, Shape(security_groups=2))
    try:
        config = world.config
        region, identifier = config["regions"]["primary"], config["databases"][0]["primary"]
        original = groups(aws, region, identifier)
        assert len(original) == 2
        failover = render(world.path, tmp_path / "docs")["failover.md"]
        fence = [b for step, b in by_hand(failover) if step in ("probe", "databases.main.fence")]
        env = shell_env(aws.endpoint_url, tmp_path / "home")

        run(fence, env, tmp_path)
        assert fenced(aws, region, identifier)
        assert fence_tag(aws, region, identifier) == " ".join(original)
        before = snapshot(aws, config)
        said = run(fence, env, tmp_path)
        assert "fenced already" in said and snapshot(aws, config) == before

        put_back = undo(failover, "databases.main.fence")
        run(put_back, env, tmp_path)
        assert groups(aws, region, identifier) == original
        assert fence_tag(aws, region, identifier) is None
        assert "nothing to undo" in run(put_back, env, tmp_path)
    finally:
        for server in world.health.values():
            server.stop()


@needs_tools
@pytest.mark.slow
def test_a_parameter_whose_value_is_a_url_is_stored_as_written(
        aws: LabAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The AWS CLI v1 fetches a parameter value that is a URL and stores the page
    (cli_follow_urlparam): the procedure's value must reach SSM as written, unfetched."""
    monkeypatch.chdir(tmp_path)
    world = build(aws, tmp_path, Shape())
    try:
        param = world.config["parameters"][0]
        param["secondary"] = world.health["secondary"].url  # answers, with an empty page
        world.write()
        failover = render(world.path, tmp_path / "docs")["failover.md"]
        blocks = [b for step, b in by_hand(failover) if step == f"parameters.{param['name']}.set"]
        assert len(blocks) == 2  # the procedure and its verification
        run(blocks, shell_env(aws.endpoint_url, tmp_path / "home"), tmp_path)
        region = world.config["regions"]["secondary"]
        assert end_state.parameter(aws, region, param["name"]) == param["secondary"]
        assert world.health["secondary"].requests == 0
    finally:
        for server in world.health.values():
            server.stop()


@needs_tools
@pytest.mark.slow
def test_reprotect_by_hand_waits_out_a_rename(aws: LabAws, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """RDS finds a renamed instance under neither name for minutes: the retire block waits
    for it, and the replica still gets the retired instance's groups."""
    monkeypatch.chdir(tmp_path)
    world = build(aws, tmp_path, Shape(security_groups=2))
    try:
        config = world.config
        region, identifier = config["regions"]["primary"], config["databases"][0]["primary"]
        original = groups(aws, region, identifier)
        assert main(["failover", "--to", "secondary", "--yes", "--config", str(world.path)]) == 0
        reprotect = render(world.path, tmp_path / "docs")["reprotect.md"]
        # A rename takes 6 s here, 3 s of them under neither name; a new replica 9 s.
        fidelity.apply(TimingProfile("realistic", time_scale=0.01))
        said = run([b for _, b in by_hand(reprotect)],
                   shell_env(aws.endpoint_url, tmp_path / "home"), tmp_path)
        assert "is not shown yet: waiting" in said
        replica = end_state.database(aws, region, identifier)
        assert replica["ReadReplicaSourceDBInstanceIdentifier"].endswith(
            f":db:{config['databases'][0]['secondary']}")
        assert groups(aws, region, identifier) == original
    finally:
        fidelity.apply(INSTANT)
        for server in world.health.values():
            server.stop()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Any]:
    """The lab in this process, instant, without PostgreSQL; two security groups a side."""
    from dr.lab.world import Lab, LabOptions

    running = Lab(LabOptions(profile="instant", data_plane=False,
                             state_dir=tmp_path / ".dr" / "lab",
                             shape=Shape(security_groups=2))).up()
    yield running
    running.down()


@needs_tools
@pytest.mark.slow
def test_failover_reprotect_failback_by_hand_then_a_region_lost(lab: Any, tmp_path: Path
                                                                ) -> None:
    config = yaml.safe_load(lab.config_path.read_text())
    for name, text in render(lab.config_path, tmp_path / "lab-docs").items():
        assert not PLACEHOLDER.findall(text), name
    for check in config["health"]:  # the user's path needs the lab's DNS (see above)
        check.pop("public", None)
        check.pop("region_key", None)
    path = tmp_path / "dr.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    dr_config.load(path)  # still a valid dr.yaml
    documents = render(path, tmp_path / "docs")
    env = shell_env(lab.front.url, tmp_path / "home")
    aws = LabAws(lab.emulator.endpoint_url)
    regions = config["regions"]
    db = config["databases"][0]
    original = {role: groups(aws, regions[role], db[role]) for role in regions}
    assert all(len(g) == 2 for g in original.values())

    def twice(name: str) -> str:
        """The document's procedure, then again: the second run changes nothing."""
        blocks = [b for _, b in by_hand(documents[name])]
        said = run(blocks, env, tmp_path)
        before = snapshot(aws, config)
        run(blocks, env, tmp_path)
        assert snapshot(aws, config) == before, f"{name}: the second run changed something"
        return said

    twice("failover.md")
    end_state.assert_failed_over(aws, config, "secondary")
    assert_healthy(config, "secondary")
    assert fence_tag(aws, regions["primary"], db["primary"]) == " ".join(original["primary"])

    twice("reprotect.md")
    replica = end_state.database(aws, regions["primary"], db["primary"])
    assert replica["ReadReplicaSourceDBInstanceIdentifier"].endswith(f":db:{db['secondary']}")
    assert replica["DBInstanceStatus"] == "available"
    assert groups(aws, regions["primary"], db["primary"]) == original["primary"]

    twice("failback.md")
    end_state.assert_failed_over(aws, config, "primary")
    assert_healthy(config, "primary")
    replica = end_state.database(aws, regions["secondary"], db["secondary"])
    assert replica["ReadReplicaSourceDBInstanceIdentifier"].endswith(f":db:{db['primary']}")
    assert groups(aws, regions["secondary"], db["secondary"]) == original["secondary"]

    # A real incident now: the primary region's APIs hang. The probe finds it lost within
    # seconds, and its steps are skipped with the follow-up to do later.
    lab.lose_region("primary")
    said = twice("failover.md")
    assert f"{regions['primary']} does not answer: its best-effort steps are skipped" in said
    assert said.count(f"skipped: {regions['primary']} does not answer") >= 2 * len(
        config["services"]) + 2
    end_state.assert_failed_over(aws, config, "secondary", other_reachable=False)
    assert_healthy(config, "secondary")
    assert not fenced(aws, regions["primary"], db["primary"])  # it could not be reached
