"""The fidelity layer patches moto's private parts, so it refuses a moto it was not written
for: `dr lab drill` and `dr lab up` stop with one line naming the library and both versions,
no traceback, nothing started; the patches themselves check before patching."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dr.errors import LabDependencyMismatch
from dr.lab.fidelity import compat

OTHER_MOTO = "5.0.0"


def shadow_moto(root: Path, version: str) -> Path:
    """A directory that, first on sys.path, makes importlib.metadata report moto `version`."""
    info = root / f"moto-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: moto\nVersion: {version}\n")
    return root


@pytest.mark.parametrize("args", [["lab", "drill", "--profile", "instant"],
                                  ["lab", "up", "--profile", "instant"]])
def test_the_lab_stops_with_one_line_on_another_moto(tmp_path: Path, args: list[str]) -> None:
    shadow = shadow_moto(tmp_path / "shadow", OTHER_MOTO)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(shadow), os.getcwd()])}
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from dr.cli.main import main; sys.exit(main())",
         *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    expected = compat.WRITTEN_FOR["moto"]
    assert f"moto {OTHER_MOTO} is installed" in lines[0]
    assert f"written for moto {expected}" in lines[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / ".dr" / "lab").exists() or not any((tmp_path / ".dr/lab").iterdir())


def test_the_patches_check_before_patching(tmp_path: Path) -> None:
    """In a fresh interpreter that sees another moto, neither patch set touches moto."""
    shadow = shadow_moto(tmp_path / "shadow", OTHER_MOTO)
    probe = """
import sys
from moto.rds.models import RDSBackend
before = RDSBackend.promote_read_replica
from dr.errors import LabDependencyMismatch
from dr.lab import fidelity
from dr.lab.fidelity import terraform
from dr.lab.timing import INSTANT
for apply in (lambda: fidelity.apply(INSTANT), terraform.apply):
    try:
        apply()
    except LabDependencyMismatch as exc:
        print(exc)
    else:
        sys.exit("patched")
assert RDSBackend.promote_read_replica is before
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(shadow), os.getcwd()])}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(f"moto {OTHER_MOTO} is installed") == 2


def test_the_installed_moto_is_the_one_written_for() -> None:
    """The environment the tests run in is the one the lock file gives."""
    compat.require_written_for("moto")


def test_a_missing_library_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(compat.WRITTEN_FOR, "no-such-library-dr", "1.0")
    with pytest.raises(LabDependencyMismatch, match="no-such-library-dr .none. is installed"):
        compat.require_written_for("no-such-library-dr")
