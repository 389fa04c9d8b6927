"""PNG charts rendered from a results file (matplotlib, no display needed).

Each PNG carries the SHA-256 of the results file it was drawn from (a PNG text chunk), so a
check can tell a stale chart from a fresh one without comparing pixels.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from buildlab.bench import figures, store, tables

CHARTS = {
    "image-size.png": "Image size per lesson and tool",
    "rebuild-times.png": "Rebuild after a code change and after a dependency-file change",
    "cold-build.png": "Cold build per lesson and tool",
    "pushed-bytes.png": "What a push uploads after a code change (compressed, log scale)",
}
SOURCE_KEY = "buildlab-results-sha256"


def fingerprint(data: store.Results) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def drawn_from(path: Path) -> str | None:
    """The results fingerprint stored in a chart, None when absent or unreadable."""
    from PIL import Image  # Pillow comes with matplotlib

    try:
        with Image.open(path) as picture:
            found = picture.info.get(SOURCE_KEY)
    except OSError:
        return None
    return None if found is None else str(found)


def stale_charts(data: store.Results, directory: Path) -> list[Path]:
    want = fingerprint(data)
    return [directory / name for name in CHARTS if drawn_from(directory / name) != want]


def _grouped_bars(
    ax: Any,
    lessons: list[str],
    tools: list[str],
    value: dict[tuple[str, str], float | None],
    ylabel: str,
) -> None:
    width = 0.8 / max(len(tools), 1)
    for index, tool in enumerate(tools):
        xs = [i + (index - (len(tools) - 1) / 2) * width for i in range(len(lessons))]
        ys = [value.get((lesson, tool)) or 0.0 for lesson in lessons]
        ax.bar(xs, ys, width, label=tool)
    ax.set_xticks(range(len(lessons)), [lesson.split("-", 1)[0] for lesson in lessons])
    ax.set_xlabel("lesson")
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)


def render(data: store.Results, directory: Path) -> list[Path]:
    """Write every chart into `directory`; returns the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    primary = [
        b for b in data["builds"] if b["app"] == data["primary_app"] and b["kind"] == "lesson"
    ]
    lessons = list(dict.fromkeys(b["subject"] for b in primary))
    tools = list(dict.fromkeys(b["tool"] for b in primary))

    def scenario(name: str) -> dict[tuple[str, str], float | None]:
        return {(b["subject"], b["tool"]): figures.summary(b, name).median for b in primary}

    pushed: dict[tuple[str, str], float | None] = {}
    for build in primary:
        median = figures.summary(build, "code_change").pushed_median
        pushed[(build["subject"], build["tool"])] = None if median is None else median / 1e6

    sizes: dict[tuple[str, str], float | None] = {}
    for build in primary:
        size = figures.size_of(build)
        sizes[(build["subject"], build["tool"])] = None if size is None else size / 1e6

    if not primary:
        return []  # a run of peers or other apps only: nothing per lesson to draw
    directory.mkdir(parents=True, exist_ok=True)
    metadata = {"Software": None, SOURCE_KEY: fingerprint(data)}
    caption = tables.machine_line(data)
    written = []
    for name, title in CHARTS.items():
        if name == "rebuild-times.png":
            fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
            _grouped_bars(axes[0], lessons, tools, scenario("code_change"), "seconds (median)")
            axes[0].set_title("code change")
            _grouped_bars(axes[1], lessons, tools, scenario("dependency_change"), "")
            axes[1].set_title("dependency-file change")
            axes[1].legend(title="tool")
        else:
            fig, ax = plt.subplots(figsize=(9, 4.2))
            if name == "image-size.png":
                _grouped_bars(ax, lessons, tools, sizes, "MB (uncompressed)")
            elif name == "pushed-bytes.png":
                _grouped_bars(ax, lessons, tools, pushed, "MB (median)")
                ax.set_yscale("log")
            else:
                _grouped_bars(ax, lessons, tools, scenario("cold"), "seconds (median)")
            ax.legend(title="tool")
        fig.suptitle(title)
        fig.text(0.01, 0.01, caption, fontsize=7, color="grey")
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        path = directory / name
        fig.savefig(path, dpi=100, metadata=metadata)
        plt.close(fig)
        written.append(path)
    return written
