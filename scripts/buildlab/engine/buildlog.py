"""Parse BuildKit's `--progress=plain` log into steps: name, CACHED or not, time, output."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

LINE = re.compile(r"^#(\d+) (.*)$")
OUTPUT = re.compile(r"^(\d+\.\d+) (.*)$")
DONE = re.compile(r"^DONE (\d+(?:\.\d+)?)s$")


@dataclass
class Step:
    id: int
    name: str
    cached: bool = False
    seconds: float | None = None
    error: str | None = None
    output: list[str] = field(default_factory=list)

    @property
    def is_instruction(self) -> bool:
        """A Dockerfile instruction ("[3/6] RUN ..."), not BuildKit's internal bookkeeping."""
        return self.name.startswith("[") and not self.name.startswith("[internal]")

    @property
    def instruction(self) -> str:
        """ "[3/6] RUN pip install x" -> "RUN pip install x"; stage names are kept."""
        return re.sub(r"^\[[^\]]*\d+/\d+\] ", "", self.name)


def parse(log: str) -> list[Step]:
    steps: dict[int, Step] = {}
    for raw in log.splitlines():
        match = LINE.match(raw)
        if not match:
            continue
        number, rest = int(match.group(1)), match.group(2)
        step = steps.get(number)
        if step is None:
            steps[number] = Step(id=number, name=rest)
            continue
        if rest == "CACHED":
            step.cached = True
        elif done := DONE.match(rest):
            step.seconds = float(done.group(1))
        elif rest.startswith("ERROR:"):
            step.error = rest[len("ERROR:") :].strip()
        elif out := OUTPUT.match(rest):
            step.output.append(out.group(2))
    return sorted(steps.values(), key=lambda s: s.id)


def instructions(steps: list[Step]) -> list[Step]:
    return [s for s in steps if s.is_instruction]


def find_step(steps: list[Step], needle: str) -> Step:
    """The one instruction whose text contains `needle` (a ValueError otherwise)."""
    found = [s for s in instructions(steps) if needle in s.instruction]
    if len(found) != 1:
        names = "; ".join(s.instruction for s in instructions(steps))
        raise ValueError(f"{len(found)} build steps contain {needle!r} (steps: {names})")
    return found[0]


def first_step(steps: list[Step], needle: str) -> Step:
    """The first instruction whose text matches `needle`, a regular expression (a ValueError
    when none does)."""
    found = [s for s in instructions(steps) if re.search(needle, s.instruction)]
    if not found:
        names = "; ".join(s.instruction for s in instructions(steps))
        raise ValueError(f"no build step contains {needle!r} (steps: {names})")
    return found[0]


def failure_summary(log: str, steps: list[Step], lines: int = 30) -> str:
    """The failing step and the tail of its output, for a one-screen error report."""
    for step in steps:
        if step.error:
            tail = "\n".join(step.output[-lines:])
            return f"failed step: {step.name}\n{step.error}\n{tail}".rstrip()
    return "\n".join(log.rstrip().splitlines()[-lines:])


UNRESOLVED_BASE = re.compile(
    r"failed to resolve source metadata for (?:docker\.io/library/)?(\S+?): (.*)$"
)


MISSING_BASE_IMAGE = "the base image"


def missing_base_image(log: str) -> str | None:
    """One line for a FROM image the engine has not got and could not pull (Docker's own
    line ends in a DNS or registry error that names neither the fix nor the cause), or None."""
    for line in reversed(log.splitlines()):
        found = UNRESOLVED_BASE.search(line)
        if found:
            image, cause = found.groups()
            return (
                f"{MISSING_BASE_IMAGE} {image} is not on this engine and could not be pulled "
                f"({cause.rsplit(': ', 1)[-1]}): pull it where a registry answers, or pick a "
                "Python this engine has (`docker images python`; adopt --python, or "
                "--build-arg PYTHON_VERSION=...)"
            )
    return None
