"""lock: 10 simultaneous failovers, exactly one acts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from typing import Any

import common

from campaign.world import SHAPE, World


def campaign_lock(world: World, quick: bool) -> dict[str, Any]:
    from dr.lab import fidelity
    from dr.lab.timing import TimingProfile

    rounds = 1 if quick else 3
    dr = common.dr_executable()
    rows = []
    for r in range(rounds):
        directory = world.provision(f"lock-{r}", shape={**SHAPE, "databases": 1})
        fidelity.set_profile(TimingProfile("realistic", 0.05))
        env = {**world.env, "DR_CONFIG": str(world.config_path)}
        processes = [subprocess.Popen(
            [dr, "failover", "--to", "secondary", "--yes", "--log-format", "json"],
            cwd=directory, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True) for _ in range(10)]
        codes, errors = [], []
        for process in processes:
            try:
                _, err = process.communicate(timeout=240)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                _, err = process.communicate()
            codes.append(process.returncode)
            errors.append(err)
        fidelity.set_profile(TimingProfile("instant"))
        runs = sorted(p.name for p in (directory / ".dr" / "runs").iterdir())
        counted = Counter(codes)
        held_named = all("lock" in e.lower() for e, c in zip(errors, codes, strict=True)
                         if c == 5)
        ok = counted.get(5) == 9 and counted.get(0) == 1 and len(runs) == 1 and held_named
        rows.append({"round": r + 1, "exit_codes": dict(counted), "runs": len(runs),
                     "losers_name_the_lock": held_named, "passed": ok})
        print(f"  10 simultaneous failovers: exit codes {dict(counted)}, runs journaled "
              f"{len(runs)}: {'PASS' if ok else 'FAIL'}", flush=True)
        if not ok:
            for e, c in zip(errors, codes, strict=True):
                if c not in (0, 5):
                    print(e[-1500:], file=sys.stderr)
    return {"rounds": rounds, "passed": sum(r["passed"] for r in rows), "rows": rows}
