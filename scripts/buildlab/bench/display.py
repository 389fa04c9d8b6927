"""What `buildlab measure` shows while it works: a rich progress bar with the build step
running now on a terminal, one plain line per build elsewhere (CI logs)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


@dataclass
class BuildProgress:
    progress: Progress | None
    task: TaskID | None
    console: Console

    def show(self, label: str, step: str | None) -> None:
        if self.progress is None or self.task is None:
            if step is None:
                self.console.print(f"measure: {label} ...", highlight=False, soft_wrap=True)
            return
        self.progress.update(self.task, description=label, step="" if step is None else step[:60])

    def advance(self, builds: int) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task, builds)


@contextmanager
def build_progress(total: int) -> Iterator[BuildProgress]:
    console = Console(stderr=True)
    if not console.is_terminal:
        yield BuildProgress(None, None, console)
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("[dim]{task.fields[step]}"),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("starting", total=total, step="")
        yield BuildProgress(progress, task, console)
