"""`dr lab drill` with the instant profile and the real data plane, as CI runs it: dr's RTO
and RPO agree with the lab's independent measurements."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dr.cli.main import main

needs_postgres = pytest.mark.needs("postgres")


def drill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, dict]:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "report"
    profile = [] if "--time-scale" in args else ["--profile", "instant"]
    code = main(["lab", "drill", *profile, "--report-dir", str(out), *args])
    return code, json.loads((out / "report.json").read_text())


@needs_postgres
def test_drill_measures_rto_and_rpo_as_the_lab_sees_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = drill(tmp_path, monkeypatch)
    printed = capsys.readouterr().out
    assert code == 0, printed
    lab = report["lab"]
    assert report["rpo"]["method"] == "heartbeat"
    assert lab["rpo"]["lost_commits"] > 0
    assert abs(lab["rpo"]["dr_seconds"] - lab["rpo"]["true_loss_seconds"]) <= 0.5
    assert abs(lab["rto"]["dr_seconds"] - lab["rto"]["observer_seconds"]) <= 1.0
    assert report["rto"]["method"] == "public_url"
    assert "observer" in printed and "true loss" in printed


@needs_postgres
@pytest.mark.slow
def test_drill_measures_the_users_path_never_before_traffic_is_in_effect(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = drill(tmp_path, monkeypatch, "--time-scale", "0.01")
    printed = capsys.readouterr().out
    assert code == 0, printed
    rto = report["lab"]["rto"]
    assert report["rto"]["method"] == "public_url" == rto["dr_method"]
    # Both public URLs (the record's name, the distribution's domain), seen by the observer.
    assert set(rto["observer_paths_seconds"]) == set(report["lab"]["public_urls"])
    assert len(report["lab"]["public_urls"]) == 2
    assert rto["dr_seconds"] >= rto["traffic_in_effect_seconds"]
    assert abs(rto["dr_seconds"] - rto["observer_seconds"]) <= 1.0
    assert rto["dr_recovery_region_seconds"] is not None
    assert "RTO, user's path" in printed and "RTO, recovery region" in printed


@needs_postgres
@pytest.mark.slow
def test_no_wan_delay_loses_nothing_acknowledged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, report = drill(tmp_path, monkeypatch, "--wan-delay", "0")
    assert code == 0
    assert report["lab"]["rpo"]["lost_commits"] == 0
    assert report["lab"]["rpo"]["acknowledged_commits"] > 0


@needs_postgres
@pytest.mark.slow
def test_lag_above_the_rpo_target_refuses_before_changing_anything(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, report = drill(tmp_path, monkeypatch, "--wan-delay", "5", "--rpo-seconds", "2")
    assert code == 3
    assert report["outcome"] == "not_ready"
    assert report["steps"] == [] and report["changed"] == []
    assert any("replica lag" in p for p in report["problems"])


@pytest.mark.slow
def test_without_a_data_plane_the_drill_says_so_and_uses_replica_lag(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = drill(tmp_path, monkeypatch, "--no-data-plane")
    assert code == 0
    assert report["rpo"]["method"] == "replica_lag"
    assert report["lab"]["data_plane"] is False
    assert "no real data plane" in capsys.readouterr().out
