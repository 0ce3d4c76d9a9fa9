"""The checked-in runbooks/ is what `dr docs` writes today: CI fails when a step changed and
the documents (or the IAM policy beside them) were not regenerated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dr.cli.main import main

RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"


def test_runbooks_dir_equals_a_fresh_dr_docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    # A dr.yaml here and $DR_CONFIG must not leak into the placeholder documents.
    work = tmp_path / "work"
    work.mkdir()
    (work / "dr.yaml").write_text("not: read\n")
    monkeypatch.chdir(work)
    monkeypatch.setenv("DR_CONFIG", str(work / "dr.yaml"))
    out = tmp_path / "fresh"

    assert main(["docs", "--out", str(out)]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert sorted(capsys.readouterr().out.split()) == sorted(str(out / n) for n in written)
    assert sorted(p.name for p in RUNBOOKS.iterdir()) == written, \
        "runbooks/ holds other files than `dr docs` writes"
    stale = [n for n in written if (RUNBOOKS / n).read_text() != (out / n).read_text()]
    assert not stale, f"stale: {', '.join(stale)}; regenerate with `dr docs`"


@pytest.mark.parametrize("seed", ["0", "4242"])
def test_output_does_not_depend_on_set_order(tmp_path: Path, seed: str) -> None:
    """Another hash seed orders sets differently; the documents must not change."""
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-c", "import sys; from dr.cli.main import main; "
                    f"sys.exit(main(['docs', '--out', {str(out)!r}]))"],
                   check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed})
    for path in RUNBOOKS.iterdir():
        assert (out / path.name).read_text() == path.read_text(), path.name
