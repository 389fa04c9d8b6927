"""The "Your project" block at the top of the production Dockerfiles (lessons 07 and 08).

It holds the only lines a reader edits to use the Dockerfile in their own project: build
arguments with defaults (the Python version, the server and app, the port, the health path, the
source root, pip-tools' lock). The tests, `buildlab measure` and `buildlab adopt` read and set
those values through this module, so "only the top block was edited" is something we can check.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from buildlab.support.errors import BuildlabError

OPENING = "# ==== Your project:"
CLOSING = "# ==== End of your project's values"
ARG_LINE = re.compile(r"^ARG (\w+)=(.*)$")


def code_folder(source_root: str) -> str:
    """The folder of the app's own code in a SOURCE_ROOT value: its first (a monorepo's
    service names the libraries it imports after it, separated by ':')."""
    return source_root.split(":")[0]


def _bounds(text: str) -> tuple[int, int]:
    """Line indexes of the block's opening and closing fence."""
    lines = text.splitlines()
    opening = [i for i, line in enumerate(lines) if line.startswith(OPENING)]
    closing = [i for i, line in enumerate(lines) if line.startswith(CLOSING)]
    if len(opening) != 1 or len(closing) != 1 or closing[0] < opening[0]:
        raise BuildlabError(
            f"no single top block: the Dockerfile needs one {OPENING!r} line and, after it, "
            f"one {CLOSING!r} line"
        )
    return opening[0], closing[0]


def has_top_block(text: str) -> bool:
    return OPENING in text and CLOSING in text


def values(text: str) -> dict[str, str]:
    """The block's build arguments and their defaults, unquoted."""
    start, end = _bounds(text)
    found = {}
    for line in text.splitlines()[start + 1 : end]:
        match = ARG_LINE.match(line)
        if match:
            found[match.group(1)] = " ".join(shlex.split(match.group(2)))
    return found


def _quoted(value: str) -> str:
    return f'"{value}"' if re.search(r"[\s\"'$]", value) else value


def with_values(text: str, new: Mapping[str, str]) -> str:
    """The Dockerfile with the given build arguments' defaults replaced, inside the block only.
    Naming an argument the block does not have is an error: nothing else may be edited."""
    start, end = _bounds(text)
    known = values(text)
    unknown = sorted(set(new) - set(known))
    if unknown:
        raise BuildlabError(f"the top block has no {', '.join(unknown)}; it has {', '.join(known)}")
    lines = text.splitlines(keepends=True)
    for number in range(start + 1, end):
        match = ARG_LINE.match(lines[number].rstrip("\n"))
        if match and match.group(1) in new:
            lines[number] = f"ARG {match.group(1)}={_quoted(new[match.group(1)])}\n"
    return "".join(lines)


def outside(text: str) -> str:
    """Everything but the block: what must stay byte-identical when a project is adopted."""
    start, end = _bounds(text)
    lines = text.splitlines(keepends=True)
    return "".join(lines[:start] + lines[end + 1 :])
