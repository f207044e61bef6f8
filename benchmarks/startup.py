"""Start-up cost of the command line against `python -c "import pandas"` (issue 15).

Runs, in one session and interleaved, 5 times each (best of 5 is kept):

* ``python -c "import pandas"`` (the yardstick),
* ``incident-impact analyze pepsi-kendall-jenner-ad-2017 --offline --no-report``,
* the same with ``--no-aftermath``,
* the same with its report (``--report <tmp>/r.html``),

on the bundled sample (offline, a fresh empty price cache, no data folder), and prints a table of the
best times and their ratios to the yardstick. Targets: report <= 2.5x, ``--no-report`` <= 2.0x.

Every command first runs once untimed with the bytecode written to a private folder
(``PYTHONPYCACHEPREFIX``, ``PYTHONDONTWRITEBYTECODE`` dropped): the timed runs read compiled modules as
an installed package does, instead of compiling this package's sources in every run when the caller's
environment forbids writing bytecode. The load average is printed before and after.

    python benchmarks/startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

INCIDENT = "pepsi-kendall-jenner-ad-2017"
CLI = "from incident_impact.cli import main; import sys; sys.argv[0] = 'incident-impact'; main()"


def _time(argv: list[str], env: dict, cwd: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="startup-")
    env = {
        **os.environ,
        "INCIDENT_IMPACT_OFFLINE": "1",
        "INCIDENT_IMPACT_CACHE_DIR": os.path.join(work, "cache"),
        "PYTHONPYCACHEPREFIX": os.path.join(work, "pycache"),
    }
    env.pop("INCIDENT_IMPACT_DATA_DIR", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    py = sys.executable
    cases = {
        "python -c 'import pandas'": [py, "-c", "import pandas"],
        "analyze --no-report": [py, "-c", CLI, "analyze", INCIDENT, "--offline", "--no-report"],
        "analyze --no-report --no-aftermath": [
            py,
            "-c",
            CLI,
            "analyze",
            INCIDENT,
            "--offline",
            "--no-report",
            "--no-aftermath",
        ],
        "analyze (report)": [py, "-c", CLI, "analyze", INCIDENT, "--offline", "--report", os.path.join(work, "r.html")],
    }
    best = {name: float("inf") for name in cases}
    load_before = os.getloadavg()
    try:
        for argv in cases.values():  # untimed: writes the bytecode
            _time(argv, env, work)
        for _ in range(args.repeat):
            for name, argv in cases.items():  # interleaved: the machine's load hits every case alike
                best[name] = min(best[name], _time(argv, env, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = best["python -c 'import pandas'"]
    targets = {"analyze --no-report": 2.0, "analyze (report)": 2.5}
    load_after = os.getloadavg()
    print(f"best of {args.repeat}, same run; python {sys.version.split()[0]}, {os.cpu_count()} CPU(s)")
    print(
        "load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}, after: {:.2f} {:.2f} {:.2f}".format(
            *load_before, *load_after
        )
    )
    print(f"{'command':<38} {'best s':>7} {'ratio':>6} {'target':>7}")
    for name, seconds in best.items():
        target = f"<= {targets[name]:.1f}" if name in targets else ""
        print(f"{name:<38} {seconds:>7.2f} {seconds / base:>6.2f} {target:>7}")


if __name__ == "__main__":
    main()
