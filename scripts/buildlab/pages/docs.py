"""Generated blocks in the docs, and the charts.

Lesson READMEs carry "Your turn" (the exercise and the claims the check runs), the solution
and the results table (lesson_pages.py); the top README and docs/results.md carry results
tables. Every number comes from the committed results file (docs/results/results.json),
never from a new measurement.
`buildlab docs` rewrites the blocks and redraws stale charts; `buildlab docs --check` (and a
test) fails when a committed file differs from what this module makes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path

from buildlab.bench import figures, store, tables, targets
from buildlab.course.model import SAME_IMAGE_CLAIM, Lesson, Manifest
from buildlab.pages.lesson_pages import (
    SOLUTIONS_PAGE,
    solution_block,
    solutions_page,
    your_turn_block,
)
from buildlab.pages.workshop import agenda_block
from buildlab.support.paths import ROOT

BLOCK = re.compile(
    r"(<!-- BEGIN GENERATED: (?P<name>[a-z-]+) \(buildlab docs\) -->\n)(?P<body>.*?)"
    r"(<!-- END GENERATED: (?P=name) -->)",
    re.DOTALL,
)
NOT_MEASURED = "No results committed yet: run `make measure`.\n"
TOP_README = ROOT / "README.md"
WORKSHOP_PAGE = ROOT / "docs" / "workshop.md"
RESULTS_PAGE = ROOT / "docs" / "results.md"


@cache
def committed_results() -> store.Results | None:
    if not store.COMMITTED_RESULTS.exists():
        return None
    return store.load(store.COMMITTED_RESULTS)


def _with_results(
    render: Callable[[store.Results], str], *, full: bool = True, lesson: str = ""
) -> str:
    """A rendering of the committed results, under where they were measured: the whole
    paragraph (full) or one line linking to the results page, where the paragraph is (with
    the commit a resumed run measured `lesson` at, when not the run's own)."""
    data = committed_results()
    if data is None:
        return NOT_MEASURED
    if full:
        return tables.provenance(data) + "\n\n" + render(data)
    later = [c for c, names in tables.later_commits(data).items() if lesson in names]
    again = f", this lesson again at commit {', '.join(c[:7] for c in later)}" if later else ""
    line = (
        f"{tables.machine_line(data)}{again}. Seconds, median of {data['repetitions']} runs; "
        f"how, and every run: [results](../../docs/results.md)."
    )
    return line + "\n\n" + render(data)


def lesson_results_block(manifest: Manifest, lesson: Lesson) -> str:
    measured = lesson
    while measured.same_image_as_previous:  # its numbers are the image's: the lesson before
        previous = manifest.previous(measured)
        assert previous is not None, f"{measured.id} builds no previous lesson's image"
        measured = previous
    table = partial(tables.builds_table, lesson=measured.id)
    if measured == lesson:
        return _with_results(table, full=False, lesson=lesson.id)
    link = f"[lesson {measured.number:02d}](../{measured.id}/README.md)"
    return _with_results(
        lambda data: (
            f"`docker build .` here builds {link}'s production image "
            f"(`{SAME_IMAGE_CLAIM}`), so `buildlab measure` does not measure it again: "
            f"these are {link}'s numbers.\n\n" + table(data)
        ),
        full=False,
    )


def overview_block(manifest: Manifest) -> str:
    lessons = [
        (lesson.id, lesson.app) for lesson in manifest.lessons if not lesson.same_image_as_previous
    ]
    tools = list(manifest.tools)

    def render(data: store.Results) -> str:
        parts = []
        for title, metric in (
            ("Image size (MB)", "size"),
            ("Rebuild after a code change (s, median)", "code_change"),
            ("What a push uploads after a code change (KB, compressed, median)", "pushed"),
            ("Cold build (s, median)", "cold"),
        ):
            parts += [f"**{title}**", "", tables.pivot_table(data, lessons, tools, metric)]
        parts.append("Every run, the spread and the charts: [docs/results.md](docs/results.md).\n")
        return "\n".join(parts)

    return _with_results(render)


def results_page_block(manifest: Manifest) -> str:
    tools = list(manifest.tools)

    def render(data: store.Results) -> str:
        from buildlab.bench.charts import CHARTS

        state = (
            "" if data["complete"] else "\n**This run did not finish: some rows are missing.**\n"
        )
        charts = [f"![{title}](results/{name})" for name, title in CHARTS.items()]
        return "\n".join(
            [
                state,
                "### Targets, per tool",
                "",
                "From lessons.toml's `[[targets]]`: benchmarks, never assertions in a test. "
                "Each missed one is explained below, with the steps each side ran.",
                "",
                targets.targets_table(data, manifest.targets, tools),
                "### Missed targets: why, with step times",
                "",
                "The reason is written in lessons.toml (`why_missed`); the figures are this "
                "run's: each side's median run and the steps it ran (every other step was "
                "cached).",
                "",
                targets.missed_targets_text(data, manifest.targets, tools),
                "### Charts",
                "",
                *charts,
                "",
                "### Every lesson build",
                "",
                tables.builds_table(data),
                "### Every peer build",
                "",
                tables.builds_table(data, kind="peer"),
                "### Variations",
                "",
                "A lesson's Dockerfile with one line added after the code's `COPY`, to "
                "measure one decision:",
                "",
                *(
                    f"- **{v.lesson}+{v.name}**: `{v.add_after_code}`"
                    for v in manifest.variations.values()
                ),
                "",
                tables.builds_table(data, kind="variation"),
            ]
        )

    return _with_results(render)


def peers_block(manifest: Manifest, lesson: Lesson) -> str:
    titles = {peer.name: f"[{peer.title}]({peer.source})" for peer in manifest.peers.values()}

    def render(data: store.Results) -> str:
        parts = []
        for name in manifest.peer_apps:
            app = manifest.apps[name]
            parts += [f"**{app.title}**", "", tables.peers_table(data, lesson.id, name, titles)]
        return "\n".join(parts)

    return _with_results(render, full=False)


def bytecode_block(manifest: Manifest, lesson: Lesson) -> str:
    """What compiling the app's own code costs at build and at start-up, from the results."""

    def render(data: store.Results) -> str:
        lines = []
        for variation in manifest.variations.values():
            if variation.lesson != lesson.id or variation.shown_in != "bytecode":
                continue
            for tool in variation.tools:
                without = figures.find(data, lesson.id, tool, manifest.primary_app)
                with_ = figures.find(
                    data,
                    f"{lesson.id}+{variation.name}",
                    tool,
                    manifest.primary_app,
                    kind="variation",
                )
                if without is None or with_ is None:
                    continue
                a = figures.summary(without, "code_change")
                b = figures.summary(with_, "code_change")
                lines.append(
                    f"- **At build** ({tool}, {manifest.apps[manifest.primary_app].title}): a "
                    f"code change rebuilt in {a.text()} s as the lesson stands, and in "
                    f"{b.text()} s with one more step after the code's `COPY` that compiles it "
                    f"(`{variation.add_after_code}`)."
                )
        for name in dict.fromkeys([manifest.primary_app, *lesson.measure_apps]):
            for tool in lesson.tools:
                build = figures.find(data, lesson.id, tool, name)
                found = None if build is None else build.get("startup_import_ms")
                if found:
                    lines.append(
                        f"- **At start-up** ({tool}, {manifest.apps[name].title}): importing "
                        f"the app in a fresh interpreter took {found['as_built']:.0f} ms as "
                        f"built (dependencies compiled, the app's own code not), "
                        f"{found['all_bytecode']:.0f} ms with byte-code for every module, and "
                        f"{found['no_bytecode']:.0f} ms with none."
                    )
                    break
        return "\n".join(lines) + "\n" if lines else "Not measured yet: run `make measure`.\n"

    return _with_results(render, full=False)


@dataclass(frozen=True)
class Document:
    path: Path
    blocks: dict[str, Callable[[], str]]


def documents(manifest: Manifest) -> list[Document]:
    docs = [
        Document(TOP_README, {"results-overview": partial(overview_block, manifest)}),
        Document(RESULTS_PAGE, {"results": partial(results_page_block, manifest)}),
        Document(WORKSHOP_PAGE, {"agenda": lambda: agenda_block(manifest, committed_results())}),
    ]
    compared = manifest.production_lesson
    for lesson in manifest.lessons:
        blocks: dict[str, Callable[[], str]] = {
            "your-turn": partial(your_turn_block, manifest, lesson),
            "solution": partial(solution_block, manifest, lesson),
            "results": partial(lesson_results_block, manifest, lesson),
        }
        if lesson == compared:
            blocks["peers"] = partial(peers_block, manifest, lesson)
            blocks["bytecode"] = partial(bytecode_block, manifest, lesson)
        docs.append(Document(lesson.directory / "README.md", blocks))
    return docs


def generated_pages(manifest: Manifest) -> dict[Path, str]:
    """Pages generated whole: each lesson's solutions page."""
    return {
        lesson.directory / SOLUTIONS_PAGE: solutions_page(manifest, lesson)
        for lesson in manifest.lessons
    }


def render(document: Document, text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        return match.group(1) + document.blocks[match.group("name")]() + match.group(4)

    return BLOCK.sub(replace, text)


def stale_docs(manifest: Manifest, *, check: bool) -> list[str]:
    """Docs whose generated blocks or charts are out of date; rewritten unless check=True."""
    from buildlab.bench.charts import render as render_charts
    from buildlab.bench.charts import stale_charts

    stale = []
    for document in documents(manifest):
        name = str(document.path.relative_to(ROOT))
        text = document.path.read_text()
        found = [m.group("name") for m in BLOCK.finditer(text)]
        if sorted(found) != sorted(document.blocks):
            stale.append(
                f"{name}: needs generated blocks {sorted(document.blocks)} once each, "
                f"has {sorted(found)}"
            )
            continue
        fresh = render(document, text)
        if fresh != text:
            stale.append(name)
            if not check:
                document.path.write_text(fresh)
    for path, text in generated_pages(manifest).items():
        if not path.exists() or path.read_text() != text:
            stale.append(str(path.relative_to(ROOT)))
            if not check:
                path.write_text(text)
    data = committed_results()
    if data is not None:
        charts = stale_charts(data, store.RESULTS_DIR)
        stale += [str(path.relative_to(ROOT)) for path in charts]
        if charts and not check:
            render_charts(data, store.RESULTS_DIR)
    return stale
