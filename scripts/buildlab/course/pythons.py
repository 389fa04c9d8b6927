"""The Python a project asks for, read from the ranges its files give (requires-python, Poetry's
`python`): the tools' `python_version` ask here."""

from __future__ import annotations

import tomllib
from pathlib import Path

# The minors a range is read against: a range that leaves out the lesson's Python gets the
# minor it admits closest to it.
KNOWN_MINORS = tuple(f"3.{minor}" for minor in range(15, 7, -1))


def pep440_range(poetry: str) -> str:
    """Poetry's `python` constraint as a PEP 440 one: `^3.10` is >=3.10,<4; `~3.12` is
    >=3.12,<3.13; `||` alternatives keep their first."""
    parts = []
    for part in poetry.split("||")[0].replace(" ", "").split(","):
        if part.startswith("^"):
            major = part[1:].split(".")[0]
            parts.append(f">={part[1:]},<{int(major) + 1}")
        elif part.startswith("~") and not part.startswith("~="):
            numbers = part[1:].split(".")
            upper = f"{numbers[0]}.{int(numbers[1]) + 1}" if len(numbers) > 1 else numbers[0]
            parts.append(f">={part[1:]},<{upper}")
        elif part and part[0].isdigit():
            parts.append(f"=={part}")
        elif part and part != "*":
            parts.append(part)
    return ",".join(parts)


def minor_of_range(pyproject: Path, preferred: str) -> tuple[str, str] | None:
    """The minor a pyproject.toml's `requires-python` (or Poetry's `python`) asks for: None
    when it gives none or admits `preferred`; else the minor it admits closest to that one."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if not pyproject.is_file():
        return None
    data = tomllib.loads(pyproject.read_text())
    given = data.get("project", {}).get("requires-python")
    where = "requires-python"
    if not given:
        poetry = data.get("tool", {}).get("poetry", {}).get("dependencies", {}).get("python")
        given, where = (pep440_range(str(poetry)), "Poetry's python") if poetry else ("", "")
    try:
        allowed = SpecifierSet(str(given))
    except InvalidSpecifier:
        return None
    if not given or allowed.contains(f"{preferred}.0"):
        return None
    admitted = [minor for minor in KNOWN_MINORS if allowed.contains(f"{minor}.0")]
    if not admitted:
        return None
    closest = min(admitted, key=lambda minor: abs(_number(minor) - _number(preferred)))
    return closest, f"{where} {given!s}"


def _number(minor: str) -> int:
    return int(minor.split(".")[1])
