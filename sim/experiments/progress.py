"""Progress of an experiment's runs: done, failed and time remaining, on standard error."""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class RunProgress:
    """Done / failed / ETA: a progress bar on a terminal, a plain line every few seconds elsewhere."""

    def __init__(self, label: str, total: int, enabled: bool = True, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.label, self.total, self.enabled = label, total, enabled
        self.done = self.failed = 0
        self.start = self._last = time.monotonic()
        self.bar: Progress | None = None

    def __enter__(self) -> RunProgress:
        if self.enabled and self.console.is_terminal:
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[failed]} failed"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.bar.__enter__()
            self.task = self.bar.add_task(self.label, total=self.total, failed=0)
        return self

    def advance(self, failed: bool) -> None:
        """Count one finished run."""
        self.done += 1
        self.failed += int(failed)
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done, failed=self.failed)
        elif self.enabled and (time.monotonic() - self._last > 5 or self.done == self.total):
            self._last = time.monotonic()
            elapsed = self._last - self.start
            eta = elapsed / self.done * (self.total - self.done)
            print(
                f"{self.label}: {self.done}/{self.total} done, {self.failed} failed, ETA {eta:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
