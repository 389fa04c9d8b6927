"""The Python a project asks for, read from the ranges its files give (requires-python, Poetry's
`python`): the tools' `python_version` ask here."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

# The minors a range is read against: a range that leaves out the lesson's Python gets the
# minor it admits closest to it. A minor is admitted when any of its releases is.
KNOWN_MINORS = tuple(f"3.{minor}" for minor in range(15, 7, -1))
PATCHES = range(60)
# Poetry separates the parts of one range by commas or by spaces before an operator.
POETRY_PART = re.compile(r"\s*,\s*|\s+(?=[<>=!~^])")


def pep440_ranges(poetry: str) -> list[str]:
    """Poetry's `python` constraint as PEP 440 ranges, one per `||` alternative: `^3.10` is
    >=3.10,<4; `~3.12` is >=3.12,<3.13 (`~3` is >=3,<4); `3.11` is ==3.11."""
    ranges = []
    for alternative in poetry.split("||"):
        parts = []
        for part in POETRY_PART.split(alternative.strip()):
            if part.startswith("^"):
                major = part[1:].split(".")[0]
                parts.append(f">={part[1:]},<{int(major) + 1}")
            elif part.startswith("~") and not part.startswith("~="):
                numbers = part[1:].split(".")
                if len(numbers) > 1:
                    upper = f"{numbers[0]}.{int(numbers[1]) + 1}"
                else:
                    upper = str(int(numbers[0]) + 1)
                parts.append(f">={part[1:]},<{upper}")
            elif part and part[0].isdigit():
                parts.append(f"=={part}")
            elif part and part != "*":
                parts.append(part)
        ranges.append(",".join(parts))
    return ranges


def minor_of_range(pyproject: Path, preferred: str) -> tuple[str, str] | None:
    """The minor a pyproject.toml's `requires-python` (or Poetry's `python`) asks for: None
    when it gives none or admits `preferred`; else the minor it admits closest to that one."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if not pyproject.is_file():
        return None
    data = tomllib.loads(pyproject.read_text())
    if given := data.get("project", {}).get("requires-python"):
        where, ranges = f"requires-python {given}", [str(given)]
    elif poetry := data.get("tool", {}).get("poetry", {}).get("dependencies", {}).get("python"):
        where, ranges = f"Poetry's python {poetry}", pep440_ranges(str(poetry))
    else:
        return None
    try:
        allowed = [SpecifierSet(each) for each in ranges]
    except InvalidSpecifier:
        return None

    def admits(minor: str) -> bool:
        return any(spec.contains(f"{minor}.{patch}") for spec in allowed for patch in PATCHES)

    if admits(preferred):
        return None
    admitted = [minor for minor in KNOWN_MINORS if admits(minor)]
    if not admitted:
        return None
    closest = min(admitted, key=lambda minor: abs(_number(minor) - _number(preferred)))
    return closest, where


def _number(minor: str) -> int:
    return int(minor.split(".")[1])
