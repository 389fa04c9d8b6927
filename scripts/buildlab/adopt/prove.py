"""`buildlab adopt PATH`: lesson 07 written into someone else's project, and proven there.

It writes the Dockerfile and .dockerignore from lesson 07 with only the "Your project" block
filled in (the values `detect` read), then builds it, runs it hardened and as an arbitrary UID,
changes its code and rebuilds, and prints what it measured next to the project's own
Dockerfile when it had one."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from buildlab.adopt.detect import Guess, detect, lesson_dockerfile
from buildlab.course import topblock
from buildlab.course.model import Manifest
from buildlab.course.probe import ANY_UID, HARDENED
from buildlab.engine import builds, containers, labels, registry
from buildlab.engine.images import uncompressed_size
from buildlab.support.errors import BuildFailed, BuildlabError, ContainerFailed, UsageError


def write(manifest: Manifest, project: Path, guess: Guess, *, force: bool) -> list[Path]:
    """Write the Dockerfile and .dockerignore; an existing one is replaced only with --force."""
    source = lesson_dockerfile(manifest, guess.tool)
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
    shutil.copy2(source.parent / ".dockerignore", targets[1])
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


def _code_file(project: Path, guess: Guess) -> Path:
    module = guess.values["APP"].split(":")[0].replace(".", "/")
    root = project / guess.values.get("SOURCE_ROOT", ".")
    for candidate in (root / f"{module}.py", root / module / "__init__.py"):
        if candidate.exists():
            return candidate
    raise BuildlabError(f"cannot find the module of {guess.values['APP']} under {root}")


def prove(
    project: Path, guess: Guess, dockerfile: str | None, *, strict: bool, say: Callable[[str], None]
) -> Figures:
    """Build, serve, change code, rebuild (and push, when the local registry answers).
    strict: any failure is an error (our Dockerfile); otherwise it is reported (theirs)."""
    figures = Figures()
    port = int(guess.values["PORT"])
    health = guess.values["HEALTH_PATH"]
    name = "adopted" if strict else "before"
    tag = labels.image_tag(f"adopt-{name}")
    with _copy(project, dockerfile) as work:
        say(f"adopt: building the {name} Dockerfile (--no-cache) ...")
        try:
            cold = builds.build(work, tag, extra_args=["--no-cache"])
        except BuildFailed as exc:
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
        for label, args in (
            ("read-only, no capabilities", HARDENED),
            ("as UID 123456:0, read-only", ANY_UID),
        ):
            container = containers.start(tag, port, extra_args=args)
            try:
                containers.wait_until_serving(container, health, timeout=60)
                figures.serves[label] = "yes"
            except ContainerFailed as exc:
                if strict:
                    raise ContainerFailed(
                        f"the image of the Dockerfile written to {project} does not serve "
                        f"{health} on port {port}, run {label}: {exc.message} (its log is "
                        "below; fix the top block, then run adopt again with --force)",
                        detail=exc.detail,
                    ) from exc
                figures.serves[label] = f"no ({exc.message})"
            finally:
                container.remove()
        repository = None
        if registry.answers():
            repository = registry.Repository(registry.unique_name(f"buildlab/adopt/{name}"))
            repository.push(tag)
        with _code_file(work, guess).open("a") as handle:
            handle.write(f"\n\ndef adopt_marker() -> str:\n    return {secrets.token_hex(4)!r}\n")
        after = builds.build(work, tag)
        figures.code_change_s = after.seconds
        if repository is not None:
            figures.pushed_kb = repository.push(tag).uploaded_bytes / 1e3
    return figures


def _cell(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def report(new: Figures, old: Figures | None) -> str:
    columns = ["lesson 07 (written)"] + (["your Dockerfile (before)"] if old else [])
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


def adopt(
    manifest: Manifest,
    project: Path,
    *,
    force: bool,
    build: bool,
    say: Callable[[str], None] = print,
    tool: str | None = None,
    app: str | None = None,
    server: str | None = None,
    port: int | None = None,
    health: str | None = None,
    python: str | None = None,
    lock: str | None = None,
) -> None:
    project = project.resolve() if project.exists() else project
    guess = detect(
        manifest,
        project,
        tool=tool,
        app=app,
        server=server,
        port=port,
        health=health,
        python=python,
        lock=lock,
    )
    say(f"adopt: {project} is a {guess.tool} project:")
    for line in guess.how:
        say(f"  {line}")
    old = (project / "Dockerfile").read_text() if (project / "Dockerfile").exists() else None
    written = write(manifest, project, guess, force=force)
    say(f"adopt: wrote {', '.join(str(path) for path in written)}")
    if not build:
        return
    from buildlab.engine.daemon import require_engine

    require_engine()
    try:
        new = prove(project, guess, None, strict=True, say=say)
        before = prove(project, guess, old, strict=False, say=say) if old is not None else None
    finally:
        labels.cleanup()
    say("")
    say(report(new, before))
