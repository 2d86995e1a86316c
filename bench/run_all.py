"""Run every benchmark in turn and print its figures (``make bench``)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    "api.py",
    "sla.py",
    "sla_calc.py",
    "routing.py",
    "mail_ingest.py",
    "mail_parse.py",
    "visits.py",
]


def main() -> int:
    failed = []
    for name in BENCHES:
        path = HERE / name
        if not path.exists():
            continue
        print(f"\n=== bench/{name} ===", flush=True)
        start = time.perf_counter()
        result = subprocess.run([sys.executable, str(path)], check=False)
        print(f"--- {name}: {time.perf_counter() - start:.1f} s, exit {result.returncode}")
        if result.returncode:
            failed.append(name)
    if failed:
        print(f"benchmarks that failed to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
