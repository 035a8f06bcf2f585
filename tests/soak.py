"""Soak: a comparison of 10,000 runs of a small scenario, with resident memory sampled.

``python tests/soak.py docs/RELIABILITY.md`` (part of ``make reliability``) runs
``bureausim compare`` with two workers, samples the resident memory of the command and its
worker processes from /proc every half second, and appends the figures to the report.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 10_000
SCENARIO = f"""name: soak
hierarchy: {{branching: [2, 3]}}
steps: 10
replications: {RUNS // 2}
arms: [{{name: status_quo}}, {{name: fault_tolerance, policies: [fault_tolerance]}}]
"""


def resident_mb(pid: int) -> float:
    """Resident memory of a process, in MB (0 if it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``."""
    found, frontier = [], [pid]
    while frontier:
        listed = subprocess.run(["pgrep", "-P", str(frontier.pop())], capture_output=True, text=True).stdout.split()
        found += [int(child) for child in listed]
        frontier += [int(child) for child in listed]
    return found


def soak() -> dict:
    """Run the soak; return the samples and figures."""
    with tempfile.TemporaryDirectory() as folder:
        scenario = Path(folder) / "soak.yaml"
        scenario.write_text(SCENARIO)
        command = [sys.executable, "-m", "sim", "compare", str(scenario), "--out", str(Path(folder) / "out")]
        start = time.monotonic()
        process = subprocess.Popen([*command, "--workers", "2", "--quiet"], stdout=subprocess.DEVNULL)
        samples = []
        while process.poll() is None:
            main = resident_mb(process.pid)
            workers = sum(resident_mb(child) for child in descendants(process.pid))
            samples.append((time.monotonic() - start, main, workers))
            time.sleep(0.5)
        lines = sum(1 for _ in (Path(folder) / "out" / "index.jsonl").open())
    return {"status": process.returncode, "seconds": time.monotonic() - start, "runs": lines, "samples": samples}


def section(result: dict) -> str:
    """The soak's figures as a Markdown section."""
    samples = [s for s in result["samples"] if s[1] > 0]
    steady = samples[len(samples) // 10 :]  # after start-up
    quarter = max(1, len(steady) // 4)
    first, last = steady[:quarter], steady[-quarter:]

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    return "\n".join(
        [
            "## Soak",
            "",
            f"`bureausim compare` of {result['runs']:,} runs (a 10-official chain, 10 periods, two arms, two worker "
            f"processes): exit status {result['status']}, {result['seconds']:.0f} s, {len(samples)} samples of "
            "resident memory every 0.5 s (`python tests/soak.py`).",
            "",
            "| | first quarter (after start-up) | last quarter | peak |",
            "|---|---|---|---|",
            f"| command (MB) | {mean([s[1] for s in first]):.0f} | {mean([s[1] for s in last]):.0f} | "
            f"{max(s[1] for s in samples):.0f} |",
            f"| workers together (MB) | {mean([s[2] for s in first]):.0f} | {mean([s[2] for s in last]):.0f} | "
            f"{max(s[2] for s in samples):.0f} |",
            "",
            "The last quarter includes the end of the comparison: its tables and the per-arm time series are "
            "read back part by part, and the run loop keeps at most one part's worth of runs in memory.",
            "",
        ]
    )


if __name__ == "__main__":
    report = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/RELIABILITY.md")
    text = report.read_text(encoding="utf-8") if report.exists() else ""
    text = text.split("## Soak")[0].rstrip() + "\n\n" + section(soak())
    report.write_text(text, encoding="utf-8")
