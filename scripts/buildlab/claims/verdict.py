"""How a claim ends: it holds, or it fails with a one-line reason (and the detail behind it).

A claim's function checks with `ensure(condition, reason)`; `check` runs it and turns every way
it can end into a Verdict: held; failed (the reason, from `ensure`, a container that never
answered or a command that failed in it); not built (the Dockerfile itself does not build: the
failing step); or not applicable (a claim that needs a lesson folder, run on a project).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from buildlab.support.errors import BuildFailed, BuildlabError, EngineError, UsageError

if TYPE_CHECKING:
    from buildlab.claims.candidate import Candidate

Outcome = Literal["held", "failed", "not built", "not applicable"]
HELD: Outcome = "held"
FAILED: Outcome = "failed"
NOT_BUILT: Outcome = "not built"
NOT_APPLICABLE: Outcome = "not applicable"


class ClaimFailed(Exception):
    """The claim does not hold: `reason` says why in one line, `detail` shows the evidence."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class NotApplicable(Exception):
    """The claim cannot be checked on this candidate (say why)."""


def ensure(condition: object, reason: str, detail: str = "") -> None:
    """The claim fails with `reason` unless `condition` holds."""
    if not condition:
        raise ClaimFailed(reason, detail)


@dataclass(frozen=True)
class Verdict:
    claim: str
    outcome: Outcome
    reason: str = ""  # one line, for every outcome but HELD
    detail: str = ""  # the evidence: a log tail, the failing step's output
    seconds: float = 0.0
    facts: tuple[str, ...] = ()  # figures measured on the way (requests served, digests)

    @property
    def held(self) -> bool:
        return self.outcome == HELD


@dataclass
class Notes:
    """What a claim measured on its way, collected while it runs."""

    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(line)


ClaimCheck = Callable[["Candidate"], None]


def first_line(text: str, limit: int = 300) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def check(claim: str, function: ClaimCheck, candidate: Candidate) -> Verdict:
    """Run one claim's function on a candidate; every ending is a Verdict (an engine that does
    not answer, or Ctrl-C, still raises: they are not the claim's)."""
    started = time.monotonic()
    candidate.notes = Notes()
    outcome: Outcome = HELD
    reason, detail = "", ""
    try:
        function(candidate)
    except ClaimFailed as failure:
        outcome, reason, detail = FAILED, failure.reason, failure.detail
    except NotApplicable as why:
        outcome, reason = NOT_APPLICABLE, str(why)
    except BuildFailed as failure:
        outcome, reason, detail = NOT_BUILT, failure.message, failure.detail
    except (EngineError, UsageError):
        raise  # the machine or the command line, not the claim: one line for the user
    except BuildlabError as failure:  # a container, a command in one, a file the claim reads
        outcome, reason, detail = FAILED, failure.message, failure.detail
    return Verdict(
        claim,
        outcome,
        first_line(reason),
        detail,
        round(time.monotonic() - started, 1),
        tuple(candidate.notes.lines),
    )
