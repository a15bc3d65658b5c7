"""What the benchmarks share: generated catalogues, timed subprocesses, Markdown output."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
DFL = [sys.executable, "-m", "dfl_graph"]
RESULTS = ROOT / "docs" / "benchmarks.md"


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float
    output: str
    cpu_seconds: float = 0.0  # user + system time of the command and its children


def timed(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    """Run a command to completion; wall time and the child's peak RSS (each run in its own process)."""
    wrapper = [
        sys.executable,
        "-c",
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter(); r = subprocess.run(sys.argv[1:]); d = time.perf_counter() - t\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN); rss = u.ru_maxrss / 1024\n"
        "print(f'@@ {d:.3f} {rss:.1f} {u.ru_utime + u.ru_stime:.3f}', file=sys.stderr); sys.exit(r.returncode)",
        *cmd,
    ]
    result = subprocess.run(wrapper, capture_output=True, text=True, cwd=ROOT, env={**os.environ, **(env or {})})
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")
    marker = [line for line in result.stderr.splitlines() if line.startswith("@@ ")][-1]
    seconds, rss, cpu = marker.split()[1:]
    return Run(float(seconds), float(rss), result.stdout + result.stderr, float(cpu))


def generated_export(n: int) -> Path:
    """A deterministic synthetic DataPress export of n datasets, made once and reused."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"export-{n}.json"
    if not path.exists():
        subprocess.run([*DFL, "generate", str(n), str(path)], check=True, cwd=ROOT)
    return path


def append_results(title: str, command: str, table: str, notes: str = "") -> None:
    """Append one run's results to docs/benchmarks.md (newest last) and print them."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    cpu = os.cpu_count()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    block = f"\n### {title} — {stamp}\n\nCommand: `{command}` ({cpu} cores, {mem:.0f} GiB)\n\n{table}\n"
    if notes:
        block += f"\n{notes}\n"
    print(block)
    with RESULTS.open("a") as out:
        out.write(block)


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
