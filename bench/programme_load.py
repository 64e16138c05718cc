"""What loading the programme's reference data costs a service at start: time and memory.

Each run is a fresh interpreter (the data is read once per process and cached), which imports
the kernel, then builds `Settings` and `Programme.from_settings` for one city and reports the
wall and CPU time of that second step, the memory
Python still holds afterwards (tracemalloc, a separate run so its overhead does not skew the
times) and the peak. Usage: `.venv/bin/python bench/programme_load.py [--runs N] [CITY ...]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = """
import json, resource, sys, time, tracemalloc
traced = sys.argv[2] == "traced"
from shared.programme import Programme
from shared.settings import Settings  # pydantic, jwt, cryptography: not the reference data's cost

if traced:
    tracemalloc.start()
wall, cpu = time.perf_counter(), time.process_time()
p = Programme.from_settings(Settings(city=sys.argv[1]))
result = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "kelurahan": len(p.all_kelurahan())}
if traced:
    result["held"], result["peak"] = tracemalloc.get_traced_memory()
print(json.dumps(result))
"""


def run(city: str, mode: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, city, mode], check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("cities", nargs="*", default=["33.75", "33.74", "33.26"])
    args = parser.parse_args()
    header = f"{'city':<7} {'kelurahan':>9} {'wall ms':>8} {'cpu ms':>7} {'held MiB':>9} {'peak MiB':>9}"
    print(f"{header}  (times: median of {args.runs} runs)")
    for city in args.cities:
        timed = [run(city, "timed") for _ in range(args.runs)]
        traced = run(city, "traced")
        print(
            f"{city:<7} {int(timed[0]['kelurahan']):>9}"
            f" {statistics.median(r['wall'] for r in timed) * 1000:>8.0f}"
            f" {statistics.median(r['cpu'] for r in timed) * 1000:>7.0f}"
            f" {traced['held'] / 2**20:>9.1f} {traced['peak'] / 2**20:>9.1f}"
        )


if __name__ == "__main__":
    main()
