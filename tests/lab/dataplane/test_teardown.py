"""stop() leaves no server process, listening port or data directory behind."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from dr.lab.postgres import Cluster, PostgresError
from dr.lab.replication import PostgresPair

from .conftest import needs_postgres, port_is_free, process_is_gone

pytestmark = needs_postgres


def server_processes(cluster: Cluster) -> list[int]:
    """The postmaster and its children (checkpointer, walsender, walreceiver...)."""
    postmaster = int((cluster.datadir / "postmaster.pid").read_text().splitlines()[0])
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                children.append(int(entry.name))
    return [postmaster, *children]


def footprint(pair: PostgresPair, clusters: list[Cluster] | None = None
              ) -> tuple[list[int], list[int], Path]:
    clusters = [c for c in clusters or (pair.primary, pair.standby) if c.is_running()]
    pids = [pid for c in clusters for pid in server_processes(c)]
    return pair.ports, pids, pair.primary.datadir.parent


def assert_nothing_left(ports: list[int], pids: list[int], root: Path) -> None:
    assert [port for port in ports if not port_is_free(port)] == []
    assert [pid for pid in pids if not process_is_gone(pid)] == []
    assert not root.exists()


def test_stop_twice_leaves_nothing() -> None:
    pair = PostgresPair(wan_delay=0.5)
    pair.start()
    ports, pids, root = footprint(pair)
    # Two servers, their two endpoints, the link between them.
    assert len(ports) == 5 and len(pids) >= 10
    pair.stop()
    pair.stop()
    assert_nothing_left(ports, pids, root)


def test_stop_after_region_loss_and_promotion_leaves_nothing() -> None:
    with PostgresPair(wan_delay=0.5) as pair:
        pair.lose_primary_region()
        started = time.monotonic()
        pair.promote_standby()
        # With an idle primary PostgreSQL 15 could take wal_retrieve_retry_interval.
        assert time.monotonic() - started < 3  # not the default's 5 s; margin for load
        ports, pids, root = footprint(pair)
    assert_nothing_left(ports, pids, root)


def test_a_failed_start_cleans_up(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[list[int], list[int], Path]] = []

    def fail(pair: PostgresPair, standby: Cluster) -> None:
        seen.append(footprint(pair, [pair.primary, standby]))
        raise PostgresError("injected")

    monkeypatch.setattr(PostgresPair, "_wait_streaming", fail)
    with pytest.raises(PostgresError, match="injected"):
        PostgresPair(wan_delay=0).start()
    [(ports, pids, root)] = seen
    assert len(ports) == 5
    assert_nothing_left(ports, pids, root)


def test_stop_after_a_failover_and_a_rebuild_leaves_nothing() -> None:
    """Reprotect's new standby in the primary region, the old server stopped."""
    with PostgresPair(wan_delay=0.2) as pair:
        old = pair.primary
        pair.set_fenced("primary", True)
        pair.promote("secondary")
        pair.rebuild("primary")
        assert pair.primary is not old and not old.is_running()
        assert pair.standby_side() == "primary" and pair.writable_side() == "secondary"
        ports, pids, root = footprint(pair)
    assert_nothing_left(ports, pids, root)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the servers as another user")
def test_a_workdir_the_server_user_cannot_reach_is_refused(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(PostgresError, match="cannot reach"):
        PostgresPair(wan_delay=0, workdir=private / "lab").start()
