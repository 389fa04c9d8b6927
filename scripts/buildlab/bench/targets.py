"""The performance targets of lessons.toml, evaluated on a results file: benchmarks the results
page shows, never assertions in a test.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from buildlab.bench.figures import added_to_base, find, median_run, peers_of, size_of, summary
from buildlab.bench.store import BuildRecord, Results
from buildlab.bench.tables import markdown_table, mb_text


@dataclass(frozen=True)
class TargetResult:
    """One performance target evaluated for one tool (and one peer, for pairwise ones).
    `evidence`: what each side measured and, for times, the steps its median run ran."""

    tool: str
    says: str
    value: float | None
    limit: float
    unit: str  # "×", "s" or "MB"
    evidence: str = ""
    peer: str = ""  # pairwise targets: the peer this ratio is against

    @property
    def met(self) -> bool | None:
        return None if self.value is None else self.value <= self.limit


def _metric(build: BuildRecord | None, metric: str) -> float | None:
    if build is None:
        return None
    if metric == "size":
        size = size_of(build)
        return None if size is None else float(size)
    return summary(build, metric).median


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _per_repetition(build: BuildRecord, scenario: str) -> dict[int, float]:
    return {
        r["repetition"]: r["seconds"]
        for r in build["runs"]
        if r["scenario"] == scenario and r["status"] == "ok"
    }


def _name(build: BuildRecord) -> str:
    return f"lesson {build['subject'][:2]}" if build["kind"] == "lesson" else build["subject"]


def side_evidence(build: BuildRecord | None, metric: str) -> str:
    """One side of a target, for a reader: its size, or its median run and the steps that run
    actually ran (not cached), each with its time."""
    if build is None:
        return "not measured"
    if metric == "size":
        added = added_to_base(build)
        extra = "" if added is None else f", {added / 1e6:.2f} MB over its base image"
        return f"{_name(build)}: {mb_text(size_of(build), 2)} MB{extra}"
    run = median_run(build, metric)
    if run is None:
        return f"{_name(build)}: no successful run"
    ran = [step for step in run["steps"] if not step["cached"]]
    in_steps = sum(step["seconds"] or 0 for step in ran)
    listed = "; ".join(f"`{short_step(s['step'])}` {s['seconds'] or 0:.1f} s" for s in ran)
    return (
        f"{_name(build)}: {run['seconds']:.2f} s: {listed or 'no step ran'}; "
        f"outside any step (context, cache checks, export) {run['seconds'] - in_steps:.1f} s"
    )


def short_step(step: str) -> str:
    """A build step as a reader recognises it: its stage and instruction, without mount
    options, cut at 50 characters."""
    text = " ".join(re.sub(r"--mount=\S+", "", step).split())
    return text if len(text) <= 50 else text[:49] + "…"


def evaluate_targets(
    results: Results, specs: Iterable[Any], tools: list[str]
) -> list[TargetResult]:
    """Every target of the manifest, for every tool it applies to (see lessons.toml)."""
    out = []
    for spec in specs:
        for tool in spec.tools or tools:
            of = find(results, spec.of.lesson, tool, spec.of.app)
            value: float | None
            mine = side_evidence(of, spec.of.metric)
            if spec.kind == "ratio":
                to = find(results, spec.to.lesson, tool, spec.to.app)
                value = _ratio(_metric(of, spec.of.metric), _metric(to, spec.to.metric))
                evidence = f"{mine} · {side_evidence(to, spec.to.metric)}"
                out.append(TargetResult(tool, spec.says, value, spec.limit, "×", evidence))
            elif spec.kind == "value":
                out.append(
                    TargetResult(
                        tool, spec.says, _metric(of, spec.of.metric), spec.limit, "s", mine
                    )
                )
            elif spec.kind == "pushed":
                pushed = None if of is None else summary(of, spec.of.metric).pushed_median
                code = None if of is None else of.get("code_compressed_bytes")
                value = None if pushed is None or code is None else (pushed - code) / 1e6
                out.append(TargetResult(tool, spec.says, value, spec.limit, "MB"))
            elif spec.kind == "size":
                sized = [p for p in peers_of(results, spec.of.app) if size_of(p) is not None]
                smallest = min(sized, key=lambda p: size_of(p) or 0, default=None)
                value = _ratio(_metric(of, "size"), _metric(smallest, "size"))
                evidence = f"{mine} · {side_evidence(smallest, 'size')}"
                out.append(TargetResult(tool, spec.says, value, spec.limit, "×", evidence))
            elif spec.kind == "pairwise":
                for peer in peers_of(results, spec.to.app):
                    ours = {} if of is None else _per_repetition(of, spec.of.metric)
                    theirs = _per_repetition(peer, spec.to.metric)
                    ratios = [ours[r] / theirs[r] for r in ours if theirs.get(r)]
                    value = statistics.median(ratios) if ratios else None
                    evidence = f"{mine} · {side_evidence(peer, spec.to.metric)}"
                    out.append(
                        TargetResult(
                            tool,
                            f"{spec.says}: {peer['subject']}",
                            value,
                            spec.limit,
                            "×",
                            evidence,
                            peer["subject"],
                        )
                    )
    return out


def missed_targets_text(results: Results, specs: Iterable[Any], tools: list[str]) -> str:
    """Every missed target: the manifest's reason (`why_missed`) and, per tool, what each side
    measured, with the steps its median run ran."""
    parts = []
    for spec in specs:
        missed = [t for t in evaluate_targets(results, [spec], tools) if t.met is False]
        if not missed:
            continue
        parts += [f"**{spec.says}** (target ≤ {spec.limit:g})", ""]
        if spec.why_missed:
            parts += [spec.why_missed, ""]
        for target in missed:
            who = target.tool + (f" against {target.peer}" if target.peer else "")
            parts.append(f"- {who}: {target.evidence}")
        parts.append("")
    return "\n".join(parts) if parts else "Every measured target was met.\n"


def targets_table(results: Results, specs: Iterable[Any], tools: list[str]) -> str:
    """One row per target (and peer), one column per tool: the measured value, and whether
    it met the target."""
    cells: dict[str, dict[str, str]] = {}
    limits: dict[str, str] = {}
    for target in evaluate_targets(results, specs, tools):
        if target.value is None:
            value = "not measured"
        else:
            number = (
                f"{target.value:.3f}" if target.unit == "×" else f"{target.value:.2f} {target.unit}"
            )
            value = f"{number} met" if target.met else f"{number} **missed**"
        cells.setdefault(target.says, {})[target.tool] = value
        limits[target.says] = f"≤ {target.limit:g}" + (
            "" if target.unit == "×" else f" {target.unit}"
        )
    if not cells:
        return "Not measured yet: run `make measure`.\n"
    rows = [
        [says, limits[says], *(by_tool.get(tool, "–") for tool in tools)]
        for says, by_tool in cells.items()
    ]
    return markdown_table(["what", "target", *tools], rows)
