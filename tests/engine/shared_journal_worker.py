"""One real failover (`dr.runbooks`, the emulator) that can SIGKILL itself right after
journal record N, recording every AWS call and whether it was answered
(tests/support/recorded_failover.py). Used by test_shared_journal.py as a subprocess, from a
working directory of its own.

usage: shared_journal_worker.py DR_YAML CALLS_FILE [--kill-at N] [--resume RUN_ID]
Prints one JSON line: run_id, outcome, exit_code.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support import recorded_failover  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("config", type=Path)
    parser.add_argument("calls", type=Path)
    parser.add_argument("--kill-at", type=int)
    parser.add_argument("--resume")
    args = parser.parse_args()
    # A resume runs on another machine than the killed run: the lock is the dead one's.
    print(json.dumps(recorded_failover.run(
        args.config, args.calls, label=str(os.getpid()), kill_at=args.kill_at,
        resume=args.resume, force_unlock=args.resume)))


if __name__ == "__main__":
    main()
