"""`buildlab adopt PATH`: lesson 07 written into someone else's project, and proven there.

It writes the Dockerfile and .dockerignore from lesson 07 with only the "Your project" block
filled in (the values `detect` read), then builds it, runs it hardened and as an arbitrary UID,
changes its code and rebuilds, and prints what it measured next to the project's own
Dockerfile when it had one."""

from __future__ import annotations

import secrets
import shlex
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from buildlab.adopt import system
from buildlab.adopt.detect import Guess, code_file, detect, lesson_dockerfile
from buildlab.adopt.options import ProjectOptions
from buildlab.claims.candidate import Candidate, final_workdir
from buildlab.claims.catalog import run_claim
from buildlab.course import topblock
from buildlab.course.model import App, Manifest, Probe
from buildlab.course.tools import TOOLS
from buildlab.engine import buildlog, builds, labels, registry
from buildlab.engine.images import uncompressed_size
from buildlab.support.errors import BuildFailed, ContainerFailed, UsageError


def write(manifest: Manifest, project: Path, guess: Guess, *, force: bool) -> list[Path]:
    """Write the Dockerfile and .dockerignore; an existing one is replaced only with --force."""
    source = lesson_dockerfile(manifest, guess.tool, guess.lesson)
    targets = [project / "Dockerfile", project / ".dockerignore"]
    present = [path.name for path in targets if path.exists()]
    if present and not force:
        raise UsageError(
            f"{project} already has {' and '.join(present)}: pass --force to replace them "
            "(the old Dockerfile is then measured beside the new one)"
        )
    text = topblock.with_values(source.read_text(), guess.values)
    lesson_line = text.splitlines()[0]
    text = text.replace(
        lesson_line,
        f"{lesson_line.split(':')[0]} (written by `buildlab adopt`): the production image. Edit "
        "the block below, nothing else.",
        1,
    )
    targets[0].write_text(text)
    ignore = (source.parent / ".dockerignore").read_text()
    static = guess.values.get("STATIC_ROOT", "")
    if static and static not in ignore.splitlines():  # a local collectstatic's, stale
        ignore += f"# This project's STATIC_ROOT: the image collects its own.\n{static}\n"
    targets[1].write_text(ignore)
    return targets


@dataclass
class Figures:
    """What one Dockerfile did on the project."""

    size_mb: float | None = None
    cold_s: float | None = None
    code_change_s: float | None = None
    pushed_kb: float | None = None
    serves: dict[str, str] = field(default_factory=dict)  # how it was run -> yes / why not


@contextmanager
def _copy(project: Path, dockerfile: str | None) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="buildlab-adopt-") as tmp:
        work = Path(tmp) / project.name
        shutil.copytree(
            project, work, ignore=shutil.ignore_patterns(".venv", "__pycache__", ".git")
        )
        if dockerfile is not None:
            (work / "Dockerfile").write_text(dockerfile)
        yield work


# How adopt shows an image serves: the claims that say so, run on the project.
SERVING_CLAIMS = {
    "read-only, no capabilities": "serves-hardened",
    "as UID 123456:0, read-only": "serves-as-any-uid",
}


def project_candidate(manifest: Manifest, context: Path, guess: Guess, name: str) -> Candidate:
    """A project's folder as a claims candidate: lesson 07's claims, the app as adopt found it
    (its health path is the request it must answer, with any body), the code where the
    Dockerfile's last WORKDIR puts it."""
    module = code_file(context, guess)
    relative = module.relative_to(context)
    app = App(
        name=context.name,
        title=f"{context.name} (a project)",
        package=str(relative.parent)
        if module.name == "__init__.py"
        else str(relative.with_suffix("")),
        port=int(guess.values["PORT"]),
        health_path=guess.values["HEALTH_PATH"],
        probe=Probe("GET", guess.values["HEALTH_PATH"], None),
        code_file=str(relative),
        production_cmd=(),
        run_env=guess.env,
    )
    dockerfile = context / "Dockerfile"
    workdir = final_workdir(dockerfile.read_text()) if dockerfile.is_file() else "/"
    return Candidate(
        manifest,
        manifest.production_lesson,
        guess.tool,
        app,
        context,
        name,
        project=True,
        workdir=workdir,
    )


def prove(
    manifest: Manifest,
    project: Path,
    guess: Guess,
    dockerfile: str | None,
    *,
    strict: bool,
    say: Callable[[str], None],
) -> Figures:
    """Build, serve, change code, rebuild (and push, when the local registry answers).
    strict: any failure is an error (our Dockerfile); otherwise it is reported (theirs)."""
    figures = Figures()
    name = "adopted" if strict else "before"
    tag = labels.image_tag(f"adopt-{name}")
    with _copy(project, dockerfile) as work:
        say(f"adopt: building the {name} Dockerfile (--no-cache) ...")
        try:
            cold = builds.build(work, tag, extra_args=["--no-cache"])
        except BuildFailed as exc:
            if strict and exc.message.startswith(buildlog.MISSING_BASE_IMAGE):
                # One line that names the image (nothing in the project to fix).
                raise BuildFailed(f"{exc.message}, then adopt again with --force") from exc
            if strict:
                raise BuildFailed(
                    f"the Dockerfile written to {project} does not build (fix the project or "
                    "the top block, then run adopt again with --force)",
                    detail=exc.detail,
                ) from exc
            figures.serves["it builds"] = f"no ({exc.message})"
            return figures
        figures.cold_s = cold.seconds
        figures.size_mb = uncompressed_size(tag) / 1e6
        candidate = project_candidate(manifest, work, guess, f"adopt-{name}")
        candidate.built_images[str(work)] = cold
        for label, claim in SERVING_CLAIMS.items():
            verdict = run_claim(claim, candidate)
            figures.serves[label] = "yes" if verdict.held else f"no ({verdict.reason})"
            if strict and not verdict.held:  # a missing library's package, or the log
                raise ContainerFailed(
                    _library_hint(verdict.detail, guess)
                    or f"the image of the Dockerfile written to {project} does not keep "
                    f"{claim}: {verdict.reason} (its log is below; fix the top block, then "
                    "run adopt again with --force)",
                    detail=verdict.detail,
                )
        repository = None
        if registry.answers():
            repository = registry.Repository(registry.unique_name(f"buildlab/adopt/{name}"))
            repository.push(tag)
        with code_file(work, guess).open("a") as handle:
            handle.write(f"\n\ndef adopt_marker() -> str:\n    return {secrets.token_hex(4)!r}\n")
        after = builds.build(work, tag)
        figures.code_change_s = after.seconds
        if repository is not None:
            figures.pushed_kb = repository.push(tag).uploaded_bytes / 1e3
    return figures


def _library_hint(log: str, guess: Guess) -> str:
    """One line naming the Debian package of a shared library the app could not load."""
    missing = system.missing_library(log)
    if missing is None:
        return ""
    library, package = missing
    if package is None:
        return (
            f"the app could not load {library}: name the Debian package that ships it "
            "(packages.debian.org searches trixie by file name) with --runtime-packages, "
            "then adopt again with --force"
        )
    wanted = " ".join([*guess.values.get("RUNTIME_PACKAGES", "").split(), package])
    return (
        f"the app could not load {library}, which Debian's {package} ships: adopt again with "
        f"--runtime-packages {shlex.quote(wanted)} --force"
    )


def _cell(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def report(new: Figures, old: Figures | None, lesson: str = "07") -> str:
    """The written Dockerfile's figures (lesson `lesson`'s), beside the old one's."""
    columns = [f"lesson {lesson} (written)"] + (["your Dockerfile (before)"] if old else [])
    rows = [
        ("image size (MB)", [_cell(f.size_mb, 0) for f in (new, old) if f]),
        ("cold build, --no-cache (s)", [_cell(f.cold_s, 1) for f in (new, old) if f]),
        ("rebuild after a code change (s)", [_cell(f.code_change_s, 1) for f in (new, old) if f]),
        ("push after a code change (KB)", [_cell(f.pushed_kb, 0) for f in (new, old) if f]),
    ]
    for label in new.serves:
        rows.append((f"serves {label}", [f.serves.get(label, "-") for f in (new, old) if f]))
    lines = ["| | " + " | ".join(columns) + " |", "| --- |" + " --- |" * len(columns)]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows]
    return "\n".join(lines)


def _relock(
    manifest: Manifest, project: Path, options: ProjectOptions, say: Callable[[str], None]
) -> None:
    """--relock: the project's pip-compile locks without hashes, compiled again with them in
    the builder image of the Python the project asks for (or --python)."""
    from buildlab.adopt.relock import relock_without_hashes
    from buildlab.course.dockerfile import from_lines
    from buildlab.engine.daemon import require_engine
    from buildlab.engine.stand_ins import ensure_python

    if not project.is_dir():
        raise UsageError(f"{project}: no such folder")
    text = lesson_dockerfile(manifest, "pip-tools").read_text()
    asked = TOOLS["pip-tools"].python_version(project, topblock.values(text)["PYTHON_VERSION"])
    python = options.python or (asked[0] if asked else "")
    if python:
        text = topblock.with_values(text, {"PYTHON_VERSION": python})
    (builder,) = [image for image, alias in from_lines(text) if alias == "builder"]
    require_engine()
    ensure_python(topblock.values(text)["PYTHON_VERSION"], say=say)
    relock_without_hashes(project, builder, say)


def adopt(
    manifest: Manifest,
    project: Path,
    options: ProjectOptions,
    *,
    force: bool,
    build: bool,
    relock: bool = False,
    say: Callable[[str], None] = print,
) -> tuple[Guess, Figures | None]:
    """Detect, write, and (build=True) prove; returns the guess and the written file's figures."""
    project = project.resolve() if project.exists() else project
    if relock:
        _relock(manifest, project, options, say)
    guess = detect(manifest, project, options)
    say(f"adopt: {project} is a {guess.tool} project:")
    for line in guess.how:
        say(f"  {line}")
    old = (project / "Dockerfile").read_text() if (project / "Dockerfile").exists() else None
    written = write(manifest, project, guess, force=force)
    say(f"adopt: wrote {', '.join(str(path) for path in written)}")
    if not build:
        return guess, None
    from buildlab.engine.daemon import require_engine
    from buildlab.engine.stand_ins import ensure_python

    require_engine()
    # The Python the project asks for: present, pulled, or built from its Debian suite (one
    # line when the engine has no source for it), before the first build needs it.
    ensure_python(guess.values["PYTHON_VERSION"], say=say)
    try:
        new = prove(manifest, project, guess, None, strict=True, say=say)
        before = (
            prove(manifest, project, guess, old, strict=False, say=say) if old is not None else None
        )
    finally:
        labels.cleanup()
    say("")
    say(report(new, before, guess.lesson[:2]))
    return guess, new
