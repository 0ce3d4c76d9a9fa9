"""Issue 14 in the lab: the primary is us-east-1 and it is lost whole, with the global control
planes it homes (Route 53, CloudFront, IAM, STS), and traffic moves by ARC routing controls.
The failover ends in bounded time through the cluster's data plane alone (acceptance 2): the
controls set through an endpoint outside us-east-1, nothing sent to the Route 53 or CloudFront
APIs that changes anything, the public name then resolving to the secondary through the lab's
DNS, and the observer (a user) served. `--with-global` anywhere but us-east-1 is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import botocore.exceptions
import dns.resolver
import pytest
from botocore.config import Config as BotoConfig

from dr import config as drconfig
from dr import runbooks
from dr.cli.main import main
from dr.errors import UsageError
from dr.lab.drill import observer_for
from dr.lab.world import APP_ADDRESSES, Lab, LabOptions, environment
from dr.runbook.run import Request, Runner
from dr.runbook.waiting import PollPolicy
from tests.support.sent import Sent

PRIMARY, SECONDARY = "us-east-1", "us-west-2"
BOUND_SECONDS = 90.0
SCALE = 0.01




@pytest.fixture
def east_lab(tmp_path: Path) -> Iterator[Lab]:
    running = Lab(LabOptions(time_scale=SCALE, wan_delay=0.5, primary_region=PRIMARY,
                             secondary_region=SECONDARY, traffic="routing-controls",
                             state_dir=tmp_path / ".dr" / "lab")).up()
    yield running
    running.down()


def resolve(lab: Lab, name: str) -> list[str]:
    """The name's addresses as a user's resolver gets them from the lab's DNS."""
    assert lab.edge is not None
    host, port = lab.edge.nameserver.rsplit(":", 1)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port, resolver.lifetime = [host], int(port), 2.0
    return [str(a.address) for a in resolver.resolve(name, "A", search=False)]


@pytest.mark.needs("postgres")
@pytest.mark.slow
def test_routing_controls_fail_over_a_whole_lost_us_east_1(east_lab: Lab) -> None:
    lab = east_lab
    assert lab.arc is not None and lab.front is not None
    records = lab.config["dns"]
    assert records and all(r.get("routing_control") for r in records)
    assert lab.config["cdn"] == []  # the distribution's origin is the record's name
    assert resolve(lab, records[0]["name"]) == [APP_ADDRESSES["primary"]]
    observer = observer_for(lab)
    lab.warm_up()
    observer.start()
    incident = lab.lose_region("primary", with_global=True)
    observer.mark_outage(incident)
    # The lab lost the global control planes: Route 53 signed for us-east-1 does not answer.
    route53 = boto3.client("route53", region_name="us-east-1", endpoint_url=lab.front.url,
                           aws_access_key_id="lab", aws_secret_access_key="lab",
                           config=BotoConfig(connect_timeout=1, read_timeout=1,
                                             retries={"total_max_attempts": 1}))
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        route53.list_hosted_zones()

    sent = Sent()
    config = drconfig.load(lab.config_path)
    with environment(lab.env):
        started = time.monotonic()
        # `dr failover --to secondary` as the lab runs it: the lab's clock for polls, the
        # production timeouts for the regions and control planes that do not answer.
        result = Runner(config, planner=runbooks.phases, poll=PollPolicy().scaled(SCALE),
                        session_factory=sent.session, state_dir=lab.options.state_dir.parent,
                        lock_dir=lab.options.state_dir / "locks").run(
            Request(command="failover", to="secondary", incident_start=incident))
        took = time.monotonic() - started
    served = observer.wait_served(timeout=10)
    observer.stop()

    assert result.exit_code in (0, 4), [(s["id"], s["error"]) for s in result.report["steps"]]
    assert took < BOUND_SECONDS
    states = lab.arc.states()
    for record in records:
        assert states[record["routing_control"]["secondary"]] == "On"
        assert states[record["routing_control"]["primary"]] == "Off"
    assert len(lab.arc.updated_through) == 1 and lab.arc.updated_through[0] != PRIMARY
    to_global = [(s, op) for s, op in sent.calls if s in ("route53", "cloudfront")]
    assert [op for _, op in to_global if not op.startswith(("Get", "List"))] == [], to_global
    # Users: the public name now answers the secondary's app, and the observer was served
    # by the secondary on every public URL (the record's name and the distribution's domain).
    assert resolve(lab, records[0]["name"]) == [APP_ADDRESSES["secondary"]]
    assert served is not None
    assert set(observer.paths_seconds) == set(lab.public_urls) and len(lab.public_urls) == 2
    assert all(seconds is not None for seconds in observer.paths_seconds.values())
    step = next(s for s in result.report["steps"] if s["type"] == "arc.set-routing-controls")
    assert step["status"] == "succeeded"
    print(f"failover wall time {took:.1f}s; dr RTO {result.report['rto']['measured_seconds']}s, "
          f"observer {observer.rto_seconds}s")


def test_with_global_is_refused_where_the_global_control_planes_are_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # The library call `dr lab outage --with-global` wraps refuses before it touches
    # anything: this lab was never brought up.
    lab = Lab(LabOptions(state_dir=tmp_path / "lab"))
    with pytest.raises(UsageError, match="homed in us-east-1, not in eu-west-1"):
        lab.lose_region("primary", with_global=True)
    assert lab.lost == {} and lab.lost_with_global == set()
    # The drill says so in one line, exit 2, before starting a lab; so for bad regions.
    monkeypatch.chdir(tmp_path)
    for args, says in ((["--with-global"], "--primary-region us-east-1"),
                       (["--primary-region", "us-east-1", "--secondary-region", "us-west-2",
                         "--with-global", "--planned"], "--planned keeps it alive"),
                       (["--secondary-region", "eu-west-1"], "must differ"),
                       (["--primary-region", "us-east-7"], "us-east-7 is not an AWS region")):
        assert main(["lab", "drill", *args]) == 2, args
        err = capsys.readouterr().err.strip()
        assert says in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / ".dr").exists()


DR = [sys.executable, "-c", "import sys; from dr.cli.main import main; sys.exit(main())"]


def dr(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DR, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=180)


@pytest.mark.slow
def test_lab_outage_with_global_through_the_background_lab(tmp_path: Path) -> None:
    """By hand: `dr lab up` in us-east-1 with routing controls, `dr lab outage primary
    --with-global`, `dr failover`; a --with-global on us-west-2 is refused and loses nothing."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "DR_")) or k == "DR_LOCK_DIR"}
    started = dr(tmp_path, env, "lab", "up", "--profile", "instant", "--no-data-plane",
                 "--primary-region", PRIMARY, "--secondary-region", SECONDARY,
                 "--traffic", "routing-controls")
    assert started.returncode == 0, started.stderr
    exports = dict(line.removeprefix("export ").split("=", 1)
                   for line in started.stdout.splitlines() if line.startswith("export "))
    lab_env = {**env, **exports}
    try:
        refused = dr(tmp_path, lab_env, "lab", "outage", "secondary", "--with-global")
        assert refused.returncode == 2
        assert "homed in us-east-1, not in us-west-2" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        status = json.loads(dr(tmp_path, lab_env, "lab", "status").stdout)
        assert status["lost"] == {} and status["lost_with_global"] == []
        assert status["regions"] == {"primary": PRIMARY, "secondary": SECONDARY}
        assert status["traffic"] == "routing-controls"

        lost = dr(tmp_path, lab_env, "lab", "outage", "primary", "--with-global")
        assert lost.returncode == 0, lost.stderr
        assert f"primary region ({PRIMARY}) lost at" in lost.stdout
        assert "global control planes" in lost.stdout
        status = json.loads(dr(tmp_path, lab_env, "lab", "status").stdout)
        assert set(status["lost"]) == {"primary"} and status["lost_with_global"] == [PRIMARY]

        failover = dr(tmp_path, lab_env, "failover", "--to", "secondary", "--yes")
        assert failover.returncode in (0, 4), failover.stdout + failover.stderr
        assert "set-routing-controls" in failover.stdout
    finally:
        down = dr(tmp_path, lab_env, "lab", "down")
    assert down.returncode == 0, down.stderr
