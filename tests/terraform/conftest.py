"""Fixtures of the Terraform-against-the-emulator tests (marker `emulator`): one moto server
and one apply of the three stacks per session, shared by every emulator test module."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import emulator_stacks as stacks
import pytest
import terraform_cli as tfcli

LAST = "test_after_failover.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The failover, reprotect and failback move the shared estate: they run after every
    test that reads the estate as the apply left it."""
    items.sort(key=lambda item: item.path.name == LAST)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto import settings
    from moto.server import ThreadedMotoServer

    from dr.lab import fidelity
    from dr.lab.fidelity import terraform as fidelity_terraform
    from dr.lab.timing import INSTANT

    fidelity_terraform.apply()
    # dr runs against the applied stacks too: RDS as AWS runs it (a promotion detaches the
    # replica, a rename is seen), with no modelled delays.
    fidelity.apply(INSTANT)
    # ACM issues a DNS-validated certificate once the records exist; moto's
    # stand-in for that is a delay, which here would only slow the apply.
    saved_wait = settings.ACM_VALIDATION_WAIT
    settings.ACM_VALIDATION_WAIT = 0
    # The stacks attach AWS managed policies (AWS_ConfigRole, the RDS enhanced
    # monitoring role), which moto only knows when asked to load them.
    saved_managed = os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES")
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        settings.ACM_VALIDATION_WAIT = saved_wait
        if saved_managed is None:
            os.environ.pop("MOTO_IAM_LOAD_MANAGED_POLICIES", None)
        else:
            os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = saved_managed


@pytest.fixture(scope="session")
def workdir(tmp_path_factory, moto_endpoint) -> Path:
    root = tmp_path_factory.mktemp("tf") / "terraform"
    shutil.copytree(
        tfcli.TERRAFORM_DIR,
        root,
        ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"),
    )
    for stack in stacks.PROVIDER_ALIASES:
        stacks.write_overrides(root, stack, moto_endpoint)
    return root


@pytest.fixture(scope="session")
def aws_env(moto_endpoint) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": stacks.PRIMARY_REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture(scope="session")
def applied(workdir, aws_env, moto_endpoint) -> dict:
    """Init and apply the three stacks in order; return their outputs and timings."""
    durations: dict[str, float] = {}
    outputs: dict[str, dict] = {}
    for stack in tfcli.ROOT_STACKS:
        cwd = workdir / stack
        backend = (
            []
            if stack == "bootstrap"
            else [f"-backend-config={stacks.env_dir(workdir) / f'{stack}.s3.tfbackend'}"]
        )
        tfcli.check(tfcli.run(tfcli.init_args(*backend), cwd, aws_env), f"init {stack}")
        started = time.monotonic()
        tfcli.check(stacks.terraform(workdir, stack, "apply", aws_env), f"apply {stack}")
        durations[stack] = time.monotonic() - started
        print(f"terraform apply {stack}: {durations[stack]:.1f} s")
        out = tfcli.check(
            tfcli.run(["output", "-json", "-no-color"], cwd, aws_env), f"output {stack}"
        )
        outputs[stack] = json.loads(out.stdout)
    return {"durations": durations, "outputs": outputs, "workdir": workdir}


@pytest.fixture(scope="session")
def health_endpoint() -> Iterator[str]:
    """Stands in for the regions' /health: the emulator has ALBs but no app behind them."""

    class Health(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            self.send_response(200 if self.path.startswith("/health") else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
