"""Figures computed from a results file's raw runs (medians, spreads, sizes), never stored twice."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from buildlab.bench.store import BuildRecord, ImageRecord, Results, RunRecord


@dataclass(frozen=True)
class Summary:
    """The runs of one scenario of one subject (a lesson in one tool, or a peer, for one app)."""

    seconds: list[float]
    failed: int
    steps_cached: int | None
    steps_total: int | None
    pushed_bytes: tuple[int, ...] = ()

    @property
    def pushed_median(self) -> float | None:
        return statistics.median(self.pushed_bytes) if self.pushed_bytes else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None

    def text(self) -> str:
        """ "12.3" for one run, "12.3 (11.8–13.0)" for several, failures said, never hidden."""
        if not self.seconds:
            return "failed" if self.failed else "–"
        median = f"{self.median:.1f}"
        notes = []
        if len(self.seconds) > 1:
            notes.append(f"{min(self.seconds):.1f}–{max(self.seconds):.1f}")
        if self.failed:
            notes.append(f"{self.failed} failed")
        return f"{median} ({'; '.join(notes)})" if notes else median


def summary(build: BuildRecord, scenario: str) -> Summary:
    runs = [r for r in build["runs"] if r["scenario"] == scenario]
    ok = [r for r in runs if r["status"] == "ok"]
    cached = [(r["steps_cached"], r["steps_total"]) for r in ok]
    steps_cached, steps_total = statistics.mode(cached) if cached else (None, None)
    return Summary(
        [r["seconds"] for r in ok],
        len(runs) - len(ok),
        steps_cached,
        steps_total,
        tuple(r["pushed_bytes"] for r in ok),
    )


def image(build: BuildRecord) -> ImageRecord | None:
    """The image of the last successful run (identical across runs of one build target)."""
    for run in reversed(build["runs"]):
        if run["status"] == "ok":
            return run["image"]
    return None


def size_of(build: BuildRecord) -> int | None:
    img = image(build)
    return None if img is None else img["size_bytes"]


def added_to_base(build: BuildRecord) -> int | None:
    """Image size minus its runtime base image: what the lesson's own layers weigh."""
    size = size_of(build)
    runtime = [b for b in build["base_images"] if b["role"] == "runtime"]
    return None if size is None or not runtime else size - runtime[0]["size_bytes"]


def find(
    results: Results, lesson: str, tool: str | None, app: str | None = None, kind: str = "lesson"
) -> BuildRecord | None:
    """The build record of a lesson (or a peer: kind="peer") in a tool, for an app."""
    for build in results["builds"]:
        if (
            (build["kind"], build["subject"]) == (kind, lesson)
            and tool in (None, build["tool"])
            and app in (None, build["app"])
        ):
            return build
    return None


def peers_of(results: Results, app: str) -> list[BuildRecord]:
    return [b for b in results["builds"] if b["kind"] == "peer" and b["app"] == app]


def median_run(build: BuildRecord, scenario: str) -> RunRecord | None:
    """The successful run of a scenario whose time is the median (the lower middle one)."""
    runs = sorted(
        (r for r in build["runs"] if r["scenario"] == scenario and r["status"] == "ok"),
        key=lambda r: r["seconds"],
    )
    return runs[(len(runs) - 1) // 2] if runs else None
