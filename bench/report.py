"""The benchmark's table: the system beside its raw baseline and aim, the runs, and the cores
each process kept busy."""

from __future__ import annotations

import argparse
import os
from typing import Any

from figures import AIMS, CLIENTS, PUBLISH_WINDOW, RAW_FETCH
from processes import (  # bench/processes.py: servers, services as processes, CPU accounting
    CORE_GROUPS,
)


def _num(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def report(args: argparse.Namespace, results: dict[str, Any]) -> list[dict[str, Any]]:
    """Print the table (and the lines under it); return its rows for the JSON file."""
    m, lat, raw_lat = results["medians"], results["latency"], results["raw_latency"]
    table: list[dict[str, Any]] = []

    def row(
        measure: str, system: float, raw: float, raw_what: str, aim: str, met: bool | None, ratio: float | None = None
    ) -> None:
        table.append(
            {
                "measure": measure,
                "system": round(system, 2),
                "raw": round(raw, 2),
                "raw_what": raw_what,
                "ratio": round(ratio if ratio is not None else system / raw, 3),
                "aim": aim,
                "met": met,
            }
        )

    for measure, key, raw_key, raw_what, aim_key in (
        (
            f"registry commands/s, HTTP, {CLIENTS} clients",
            "commands",
            "raw_pg",
            f"asyncpg, 1 insert per txn, {CLIENTS} conns",
            "commands",
        ),
        ("relay events/s", "relay", "raw_publish", f"JetStream publish, {PUBLISH_WINDOW} in flight", "relay"),
        (
            "projection events/s",
            "projection",
            "raw_consume",
            f"pull fetch({RAW_FETCH}) + executemany + ack",
            "projection",
        ),
    ):
        ratio = m[key] / m[raw_key]
        row(measure, m[key], m[raw_key], raw_what, f">= {AIMS[aim_key]:.0%}", ratio >= AIMS[aim_key])
    for key in ("p50_ms", "p99_ms"):
        is_p99 = key == "p99_ms"
        row(
            f"command→read model {key[:3]}, ms @{args.rate:g}/s",
            lat[key],
            raw_lat[key],
            "insert → publish → pull → upsert",
            f"< {AIMS['latency_p99_ms']:g} ms" if is_p99 else "",
            lat[key] < AIMS["latency_p99_ms"] if is_p99 else None,
        )
    row(
        "(info) registry vs HTTP floor, commands/s",
        m["commands"],
        m["http_floor"],
        "uvicorn+FastAPI, 1 insert per POST",
        "",
        None,
    )

    headers = ("measure", "system", "raw baseline", "ratio", "aim", "met?")
    lines = [headers]
    for t in table:
        is_ms = "ms @" in t["measure"]
        lines.append(
            (
                t["measure"],
                _num(t["system"]),
                f"{_num(t['raw'])}  ({t['raw_what']})",
                f"{t['ratio']:.1f}×" if is_ms else f"{t['ratio']:.0%}",
                t["aim"],
                "" if t["met"] is None else ("yes" if t["met"] else "NO"),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    align = ("<", ">", "<", ">", "<", "<")
    print()
    print(
        f"Genting benchmark: {os.cpu_count()} CPUs; medians of {args.reps} runs; commands {args.commands}, "
        f"events {args.events}, raw rows {args.raw_rows}; HTTP client: {args.http_client}"
    )
    for i, line in enumerate(lines):
        print(" | ".join(f"{cell:{a}{w}}" for cell, a, w in zip(line, align, widths, strict=True)).rstrip())
        if i == 0:
            print("-+-".join("-" * w for w in widths))
    print()
    verdict = "met" if lat["p99_ms"] < AIMS["latency_p99_ms"] else "NOT met"
    print(
        f"latency at {args.rate:g} commands/s for {args.latency_seconds:g} s ({lat['n']} families): "
        f"p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms, max {lat['max_ms']:.1f} ms; "
        f"aim p99 < {AIMS['latency_p99_ms']:g} ms: {verdict}"
    )
    print(
        f"  the POST alone: p50 {lat['http_p50_ms']:.1f} ms, p99 {lat['http_p99_ms']:.1f} ms; "
        f"raw path: p50 {raw_lat['p50_ms']:.1f} ms, p99 {raw_lat['p99_ms']:.1f} ms, max {raw_lat['max_ms']:.1f} ms"
    )
    print("per run: " + "; ".join(f"{k} " + "/".join(_num(v) for v in vs) for k, vs in results["per_rep"].items()))
    print()
    print("cores busy while measuring (service = the uvicorn process; other = rest of machine + kernel):")
    print("  " + f"{'phase':<12}" + "".join(f"{g:>9}" for g in (*CORE_GROUPS, "total")))
    for phase, groups in results["cores_busy"].items():
        print(
            "  " + f"{phase:<12}" + "".join(f"{groups[g]:>9.2f}" for g in CORE_GROUPS) + f"{sum(groups.values()):>9.2f}"
        )
    for phase, key in (("commands", "commands"), ("http_floor", "http_floor")):
        if phase in results["cores_busy"]:
            busy, rate = results["cores_busy"][phase], m[key]
            print(
                f"  CPU per request ({phase}): "
                + ", ".join(f"{g} {busy[g] / rate * 1000:.2f} ms" for g in ("bench", "service", "postgres", "nats"))
            )
    return table
