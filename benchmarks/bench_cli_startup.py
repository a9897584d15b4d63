"""How fast does the CLI answer a bad argument? CPU time of the `lstmkit` entry point reporting a
missing file or an unknown column, as a ratio to `python -c "import pandas"` measured in the same
run (the floor: the CLI reads tables with pandas).

    python benchmarks/bench_cli_startup.py [--repeats 7]

Target (issue 14): under 1 s of CPU time, i.e. torch is not imported before the arguments, the file
and the columns are checked.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def cpu_seconds(argv: list[str], expect: int) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != expect:
        raise SystemExit(f"{argv} exited {r.returncode}: {r.stderr}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    csv = tmp / "d.csv"
    csv.write_text("date,sales\n2000-01-01,1\n2000-02-01,2\n")
    cli = [sys.executable, "-m", "lstmkit.cli.main"]
    jobs = {
        'python -c "import pandas"': ([sys.executable, "-c", "import pandas"], 0),
        "lstmkit forecast train, missing file": ([*cli, "forecast", "train", "--data", str(tmp / "nope.csv"), "--model", str(tmp / "m")], 2),
        "lstmkit forecast train, unknown column": ([*cli, "forecast", "train", "--data", str(csv), "--target-col", "sale", "--model", str(tmp / "m")], 2),
        "lstmkit classify train, missing file": ([*cli, "classify", "train", "--data", str(tmp / "nope.ts"), "--model", str(tmp / "m")], 2),
    }
    times = {k: [] for k in jobs}
    for _ in range(args.repeats):
        for name, (argv, expect) in jobs.items():
            times[name].append(cpu_seconds(argv, expect))
    floor = statistics.median(times['python -c "import pandas"'])
    print(f"median CPU seconds over {args.repeats} runs (user + sys), ratio to importing pandas")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<42}{med:>8.3f} s{med / floor:>8.2f}x")


if __name__ == "__main__":
    main()
