"""Reading a Dockerfile: the images its stages start from, and which stage does what."""

from __future__ import annotations

import re

FROM_LINE = re.compile(r"^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", re.I | re.M)


ARG_DEFAULT = re.compile(r"^ARG\s+(\w+)=(\S+)", re.M)


def from_lines(text: str) -> list[tuple[str, str]]:
    """(image, stage alias) of every FROM line, in order; `${ARG}` takes the ARG's default."""
    defaults = dict(ARG_DEFAULT.findall(text))
    return [
        (re.sub(r"\$\{(\w+)\}", lambda m: defaults.get(m.group(1), m.group(0)), image), alias)
        for image, alias in FROM_LINE.findall(text)
    ]


def installing_stage(text: str, install_pattern: str) -> str | None:
    """The name of the stage whose RUN installs the dependencies (the first RUN that matches
    the tool's install pattern), when it is not the last stage; None when the last one does
    (or no stage does)."""
    starts = list(re.finditer(r"^FROM\s.*$", text, re.I | re.M))
    for number, start in enumerate(starts):
        end = starts[number + 1].start() if number + 1 < len(starts) else len(text)
        body = text[start.end() : end]
        runs = re.findall(r"^RUN\b(?:[^\n]*\\\n)*[^\n]*", body, re.M)  # with its continuations
        if any(re.search(install_pattern, run) for run in runs):
            if number == len(starts) - 1:
                return None
            alias = re.search(r"\sAS\s+(\S+)\s*$", start.group(0), re.I)
            return alias.group(1) if alias else str(number)
    return None
