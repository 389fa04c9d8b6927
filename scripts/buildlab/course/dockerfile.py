"""Reading a Dockerfile: the images its stages start from."""

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
