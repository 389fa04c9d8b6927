"""Generated blocks in lesson READMEs: the Dockerfile diff from the previous lesson and the
lesson's claims. `buildlab docs` rewrites them; `buildlab docs --check` (and a test) fails
when a committed README differs from what this module makes."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from buildlab.manifest import Lesson, Manifest

BLOCK = re.compile(
    r"(<!-- BEGIN GENERATED: (?P<name>[a-z-]+) \(buildlab docs\) -->\n)(?P<body>.*?)"
    r"(<!-- END GENERATED: (?P=name) -->)",
    re.DOTALL,
)


def _diff(old: Path, new: Path, old_name: str, new_name: str) -> str:
    lines = difflib.unified_diff(old.read_text().splitlines(), new.read_text().splitlines(),
                                 fromfile=old_name, tofile=new_name, lineterm="")
    return "\n".join(lines)


def changes_block(manifest: Manifest, lesson: Lesson) -> str:
    links = " · ".join(f"[{tool}]({tool}/Dockerfile)" for tool in lesson.variants)
    out = [f"The Dockerfiles: {links}", ""]
    index = manifest.lessons.index(lesson)
    if index == 0:
        out.append("This is the first lesson: there is nothing to compare with yet.")
        return "\n".join(out) + "\n"
    previous = manifest.lessons[index - 1]
    for position, tool in enumerate(lesson.variants):
        diff = _diff(previous.directory / tool / "Dockerfile", lesson.directory / tool / "Dockerfile",
                     f"{previous.id}/{tool}/Dockerfile", f"{lesson.id}/{tool}/Dockerfile")
        fence = f"```diff\n{diff}\n```"
        if position == 0:
            out += [f"`{tool}` against {previous.id} (open the others below):", "", fence, ""]
        else:
            out += [f"<details><summary>{tool}</summary>", "", fence, "", "</details>", ""]
    return "\n".join(out).rstrip() + "\n"


def claims_block(manifest: Manifest, lesson: Lesson) -> str:
    lines = [f"- **{claim}**: {manifest.claims[claim].says}" for claim in lesson.claims]
    return "\n".join(lines) + "\n"


GENERATORS = {"changes": changes_block, "claims": claims_block}


def render(manifest: Manifest, lesson: Lesson, text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        body = GENERATORS[match.group("name")](manifest, lesson)
        return match.group(1) + body + match.group(4)

    return BLOCK.sub(replace, text)


def stale_readmes(manifest: Manifest, *, write: bool) -> list[str]:
    """Lesson READMEs whose generated blocks are out of date (rewritten when write=True)."""
    stale = []
    for lesson in manifest.lessons:
        path = lesson.directory / "README.md"
        text = path.read_text()
        names = {m.group("name") for m in BLOCK.finditer(text)}
        if names != set(GENERATORS):
            stale.append(f"{path.relative_to(lesson.directory.parents[1])}: needs blocks "
                         f"{sorted(GENERATORS)}, has {sorted(names)}")
            continue
        fresh = render(manifest, lesson, text)
        if fresh != text:
            stale.append(str(path.relative_to(lesson.directory.parents[1])))
            if write:
                path.write_text(fresh)
    return stale
