"""Start-up of the command line, whole process (issue 20, acceptance 3): `dr --help` must
stay under 0.3 s with the live board's library (rich) installed, because the board's
modules are imported only when a board is drawn.

Reported: wall time of the console script for `dr --help` and two commands' `--help`
(median and max of --runs); whether rich or the board's modules were loaded by `dr --help`;
what importing the run board adds when one is drawn; and what rich adds to `import
structlog` (structlog.dev imports rich for tracebacks when it is installed, so every command
that logs pays it, board or not).

    python benchmarks/cli_startup.py [--runs 11] [--json benchmarks/out/cli_startup.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import common

TARGET = 0.3
LOADED = ("import sys\nfrom dr.cli.main import main\nmain(['--help'])\n"
          "print(sorted(m for m in ('rich', 'dr.cli.board', 'dr.cli.estate_board', 'boto3')"
          " if m in sys.modules))")


def wall(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, timeout=60)
    return time.perf_counter() - started


def import_cost(statement: str, runs: int, cwd: Path, block_rich: bool = False) -> float:
    """Median wall time of a fresh interpreter that runs `statement` (start-up included)."""
    prefix = "import sys; sys.modules['rich'] = None; " if block_rich else ""
    return statistics.median(wall([sys.executable, "-c", prefix + statement], cwd)
                             for _ in range(runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    dr = common.dr_executable()
    work = Path(tempfile.mkdtemp(prefix="dr-startup-"))
    results: dict[str, Any] = {"machine": common.machine(), "runs": args.runs}
    for name, command in (("dr --help", [dr, "--help"]),
                          ("dr failover --help", [dr, "failover", "--help"]),
                          ("dr status --help", [dr, "status", "--help"])):
        wall([*command], work)  # warm the page cache
        times = [wall(command, work) for _ in range(args.runs)]
        results[name] = {"median": statistics.median(times), "max": max(times),
                         "times": [round(t, 4) for t in times]}
    loaded = subprocess.run([sys.executable, "-c", LOADED], cwd=work, check=True,
                            capture_output=True, text=True).stdout.strip().splitlines()[-1]
    results["loaded by dr --help"] = loaded
    results["python -c pass"] = import_cost("pass", args.runs, work)
    results["import dr.cli.runner"] = import_cost("import dr.cli.runner", args.runs, work)
    results["import dr.cli.runner, dr.cli.board"] = import_cost(
        "import dr.cli.runner, dr.cli.board", args.runs, work)
    results["import structlog"] = import_cost("import structlog", args.runs, work)
    results["import structlog (rich blocked)"] = import_cost("import structlog", args.runs,
                                                             work, block_rich=True)

    print(common.machine_line())
    for name in ("dr --help", "dr failover --help", "dr status --help"):
        row = results[name]
        verdict = "" if name != "dr --help" else (
            f"  (target {TARGET} s: {'met' if row['max'] < TARGET else 'NOT met'})")
        print(f"{name:<22} median {common.fmt(row['median'], 3)} s, max "
              f"{common.fmt(row['max'], 3)} s over {args.runs}{verdict}")
    print(f"modules loaded by dr --help among rich, the boards and boto3: {loaded}")
    for name in ("python -c pass", "import dr.cli.runner", "import dr.cli.runner, dr.cli.board",
                 "import structlog", "import structlog (rich blocked)"):
        print(f"{name:<36} median {common.fmt(results[name], 3)} s (whole interpreter)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if results["dr --help"]["max"] < TARGET and loaded == "[]" else 1


if __name__ == "__main__":
    sys.exit(main())
