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


# A wheel's file name: distribution-version(-build)-python-abi-platform.whl (PEP 427).
WHEEL = re.compile(
    r"([A-Za-z0-9_.]+?)-[^-/\s\"']+(?:-\d[^-/\s\"']*)?-([\w.]+)-([\w.]+)-([\w.]+)\.whl"
)
LINUX_X86_64 = re.compile(r"(manylinux|linux)\w*x86_64")


def wheel_minors(lock: str) -> set[str] | None:
    """The Python minors (of KNOWN_MINORS) every locked package has a Linux x86_64 wheel or a
    wheel for any Python for, read from the wheel file names a lock records (uv.lock,
    poetry.lock); None when the lock names no wheel (Pipfile.lock, requirements.txt) or its
    packages leave no minor."""
    per_package: dict[str, set[str]] = {}
    for name, python, abi, platform in WHEEL.findall(lock):
        key = name.lower().replace("-", "_")
        minors = per_package.setdefault(key, set())
        if abi == "none" or platform == "any":
            minors.update(KNOWN_MINORS)
        elif LINUX_X86_64.search(platform):
            for tag in python.split("."):
                if found := re.fullmatch(r"cp3(\d+)", tag):
                    if abi == "abi3":  # this minor and every later one
                        minors.update(m for m in KNOWN_MINORS if _number(m) >= int(found[1]))
                    else:
                        minors.add(f"3.{found[1]}")
    constrained = [minors for minors in per_package.values() if minors]
    if not constrained:
        return None
    common = set(KNOWN_MINORS).intersection(*constrained)
    return common or None


def minor_of_lock(lock: str, pyproject: Path, preferred: str) -> tuple[str, str] | None:
    """When a package in the lock has no wheel for `preferred` (psycopg2-binary 2.9.9 has none
    for 3.13, and does not build from source there), the minor closest to it that every
    locked package has wheels for and the project's range admits; None otherwise."""
    minors = wheel_minors(lock)
    if minors is None or preferred in minors:
        return None
    fitting = [minor for minor in minors if admits_range(pyproject, minor)]
    if not fitting:
        return None
    closest = min(fitting, key=lambda minor: abs(_number(minor) - _number(preferred)))
    return closest, f"the lock's wheels: some package has none for {preferred}"


def admits_range(pyproject: Path, minor: str) -> bool:
    """Whether the project's requires-python (or Poetry's python) admits a minor (True when
    it gives none)."""
    return minor_of_range(pyproject, minor) is None
