"""`buildlab check`: a lesson's claims run on the learner's Dockerfile, or on a project's own.

`check LESSON TOOL [PATH]` builds the learner's files (Dockerfile, .dockerignore, compose.yaml
from PATH, by default their exercise folder) on a fresh copy of that lesson's context, runs
every claim the lesson makes and prints one line per claim: held, or failed with its reason
and the claim's hint. The result is kept in PATH/.check.json for `buildlab progress`.

`check --lesson 07 PROJECT` runs lesson 07's claims on a project's own Dockerfile, the app
found the way `adopt` finds it (with its flags); the claims that need our lesson folders say
they do not apply.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from buildlab.adopt.detect import detect
from buildlab.adopt.options import ProjectOptions
from buildlab.adopt.prove import project_candidate
from buildlab.claims.candidate import Candidate
from buildlab.claims.catalog import PRUNES_BUILD_CACHE, PRUNES_CACHE_MOUNTS, run_claim
from buildlab.claims.verdict import FAILED, HELD, NOT_APPLICABLE, NOT_BUILT, Verdict
from buildlab.course.model import Lesson, Manifest, Variant
from buildlab.engine import labels, private_index
from buildlab.engine.daemon import require_engine
from buildlab.engine.registry import require_registry
from buildlab.learn.exercise import LEARNER_FILES, exercise_folder, lay_out, overlay
from buildlab.support.errors import BuildFailed, UsageError

CHECK_FILE = ".check.json"  # in the learner's folder: the last check's result
# A project copied for a check: its virtual environments stay behind (.git comes: a version
# from setuptools-scm needs it, and the project's .dockerignore decides what the build sees).
PROJECT_IGNORED = shutil.ignore_patterns(".venv", "venv", "__pycache__")
MARKS = {HELD: "ok  ", FAILED: "FAIL", NOT_BUILT: "FAIL", NOT_APPLICABLE: "n/a "}


@dataclass(frozen=True)
class CheckResult:
    """What `progress` reads back: which claims held at the last check, of which files."""

    lesson: str
    tool: str
    checked_at: str
    files_digest: str  # the learner files as they were checked
    held: tuple[str, ...]
    failed: tuple[str, ...]

    @property
    def done(self) -> bool:
        return not self.failed


def files_digest(folder: Path) -> str:
    """One digest of the learner files in a folder (absent ones count as absent)."""
    digest = hashlib.sha256()
    for name in LEARNER_FILES:
        path = folder / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"-"))
    return digest.hexdigest()[:16]


def read_result(folder: Path) -> CheckResult | None:
    path = folder / CHECK_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        return CheckResult(**{**data, "held": tuple(data["held"]), "failed": tuple(data["failed"])})
    except (ValueError, TypeError, KeyError):
        return None  # a damaged file: as if never checked


def _requirements(lesson: Lesson) -> None:
    """What the lesson's claims need, each missing one a clear line before anything runs."""
    require_engine()
    if "code-change-ships-only-code" in lesson.claims:  # it pushes, and counts the bytes
        require_registry()
    if lesson.private_index:
        private_index.require_private_index()
    if lesson.dev_stage:
        from buildlab.engine.compose import require_compose

        require_compose()


def report_line(verdict: Verdict, hint: str, known_failure: str = "") -> list[str]:
    """A claim's line: ok; or FAIL, the reason, the evidence (a failed build's step) unless it
    was shown already, and the claim's hint."""
    line = f"  {MARKS[verdict.outcome]}  {verdict.claim}"
    if verdict.outcome == HELD:
        return [f"{line} ({verdict.seconds:.0f} s)"]
    lines = [f"{line}: {verdict.reason}"]
    if verdict.outcome == NOT_BUILT and verdict.detail and verdict.detail != known_failure:
        lines += [f"        {row}" for row in verdict.detail.splitlines()[-12:]]
    if verdict.outcome in (FAILED, NOT_BUILT) and hint:
        lines.append(f"        hint: {hint}")
    return lines


# Claims that empty the engine's build cache (`docker builder prune`) run last.
PRUNING = PRUNES_BUILD_CACHE


def run_all(
    manifest: Manifest, candidate: Candidate, claims: tuple[str, ...], say: Callable[[str], None]
) -> list[Verdict]:
    """Build once (a Dockerfile that does not build: its failing step, shown once), then every
    claim, those that prune the build cache last."""
    known = ""
    try:
        candidate.built()
    except BuildFailed as failure:
        say(f"check: the Dockerfile does not build: {failure.message}")
        say(failure.detail)
        known = failure.detail
    for chosen, what in (
        (PRUNES_BUILD_CACHE, "this engine's build cache (`docker builder prune`)"),
        (
            PRUNES_CACHE_MOUNTS,
            "this engine's cache mounts (`docker builder prune --filter type=exec.cachemount`)",
        ),
    ):
        if pruning := [claim for claim in claims if claim in chosen]:
            say(
                f"check: {', '.join(pruning)} empties {what}: on an engine others share, run "
                "it when nobody else builds"
            )
    verdicts = []
    for claim in sorted(claims, key=lambda each: each in PRUNING):
        verdict = run_claim(claim, candidate)
        for line in report_line(verdict, manifest.claims[claim].hint, known):
            say(line)
        verdicts.append(verdict)
    return verdicts


def summary(verdicts: list[Verdict]) -> tuple[str, bool]:
    held = [v.claim for v in verdicts if v.outcome == HELD]
    failed = [v.claim for v in verdicts if v.outcome in (FAILED, NOT_BUILT)]
    skipped = [v.claim for v in verdicts if v.outcome == NOT_APPLICABLE]
    text = f"check: {len(held)} of {len(verdicts) - len(skipped)} claims hold"
    if skipped:
        text += f" ({len(skipped)} do not apply)"
    text += f"; {len(failed)} fail: {', '.join(failed)}" if failed else ": every claim holds"
    return text, not failed


def check_exercise(
    manifest: Manifest,
    lesson: Lesson,
    tool: str,
    path: Path | None = None,
    *,
    say: Callable[[str], None] = print,
) -> bool:
    """Every claim of the lesson on the learner's files; True when every one holds."""
    folder = path or exercise_folder(lesson, tool)
    if not folder.is_dir():
        hint = (
            f"run `buildlab exercise {lesson.id[:2]} {tool}` first"
            if path is None
            else "give the folder that holds your Dockerfile"
        )
        raise UsageError(f"no folder at {folder}: {hint}")
    if not (folder / "Dockerfile").is_file():
        raise UsageError(f"{folder} has no Dockerfile: the check builds the one in that folder")
    if not lesson.claims:
        raise UsageError(f"{lesson.id} makes no claims to check")
    _requirements(lesson)
    digest = files_digest(folder)
    say(
        f"check: {lesson.id} ({tool}), your files from {folder}, on a copy of the lesson's "
        f"context: {len(lesson.claims)} claims"
    )
    try:
        with tempfile.TemporaryDirectory(prefix="buildlab-check-") as tmp:
            context = Path(tmp) / lesson.id / tool
            lay_out(manifest, lesson, tool, context)
            overlay(context, folder)
            candidate = Candidate.of_variant(manifest, Variant(lesson, tool, Path(tmp)))
            candidate.name = f"check-{lesson.id}-{tool}"
            verdicts = run_all(manifest, candidate, lesson.claims, say)
    finally:
        labels.cleanup()
    text, ok = summary(verdicts)
    say(text)
    result = CheckResult(
        lesson.id,
        tool,
        time.strftime("%Y-%m-%dT%H:%M:%S"),
        digest,
        tuple(v.claim for v in verdicts if v.outcome == HELD),
        tuple(v.claim for v in verdicts if v.outcome in (FAILED, NOT_BUILT)),
    )
    (folder / CHECK_FILE).write_text(json.dumps(asdict(result), indent=1) + "\n")
    return ok


def check_project(
    manifest: Manifest,
    lesson: Lesson,
    project: Path,
    options: ProjectOptions,
    *,
    say: Callable[[str], None] = print,
) -> bool:
    """The production lesson's claims on a project's own Dockerfile (nothing written there)."""
    if not lesson.production or lesson != manifest.production_lesson:
        raise UsageError(
            f"{lesson.id}'s claims are about our lesson folders: a project is checked against "
            f"lesson {manifest.production_lesson.id[:2]}'s (--lesson "
            f"{manifest.production_lesson.id[:2]})"
        )
    if not project.is_dir():
        raise UsageError(f"{project} is not a project folder")
    if not (project / "Dockerfile").is_file():
        raise UsageError(f"{project} has no Dockerfile (`buildlab adopt` writes lesson 07's)")
    guess = detect(manifest, project.resolve(), options, writing=False)
    _requirements(lesson)
    say(f"check: {project}'s Dockerfile against {lesson.id}'s {len(lesson.claims)} claims")
    for line in guess.how:
        say(f"  {line}")
    try:
        with tempfile.TemporaryDirectory(prefix="buildlab-check-") as tmp:
            context = Path(tmp) / project.resolve().name
            shutil.copytree(project, context, ignore=PROJECT_IGNORED)
            candidate = project_candidate(manifest, context, guess, f"check-{context.name}")
            verdicts = run_all(manifest, candidate, lesson.claims, say)
    finally:
        labels.cleanup()
    text, ok = summary(verdicts)
    say(text)
    return ok
