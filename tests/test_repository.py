"""Fast tier (no Docker): the repository agrees with its manifest, pins and generated files."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from buildlab.adopt.options import ProjectOptions
from buildlab.claims.catalog import CLAIMS
from buildlab.course import sync
from buildlab.course.lint import hadolint
from buildlab.course.locks import stale_locks
from buildlab.course.manifest import load_manifest
from buildlab.course.model import LockFolder, Manifest, Variant
from buildlab.course.tools import TOOLS
from buildlab.support.errors import UsageError
from buildlab.support.paths import LESSONS_DIR, ROOT
from buildlab.support.pins import load_pins
from buildlab.support.scratch import scratch_dir
from helpers import run_cli

MANIFEST = load_manifest()
VARIANTS = MANIFEST.all_variants()
IDS = [v.name for v in VARIANTS]


def test_manifest_matches_folders(manifest: Manifest) -> None:
    on_disk = {p.name for p in LESSONS_DIR.iterdir() if p.is_dir()}
    listed = {lesson.id for lesson in manifest.lessons}
    assert on_disk - listed == set(), "lesson folders missing from lessons.toml"
    assert listed - on_disk == set(), "lessons in lessons.toml without a folder"
    for lesson in manifest.lessons:
        folders = {p.name for p in lesson.directory.iterdir() if p.is_dir()}
        assert folders == set(lesson.tools), f"{lesson.id}: tool folders != manifest"


def test_shapes_match_folders_and_their_top_block(manifest: Manifest) -> None:
    """Every shapes/ folder is a shape in lessons.toml and back; each is built by a production
    lesson, and sets only values that lesson's Dockerfile has in its top block."""
    from buildlab.course import topblock
    from buildlab.support.paths import SHAPES_DIR

    on_disk = {p.name for p in SHAPES_DIR.iterdir() if p.is_dir()}
    assert on_disk == set(manifest.shapes), "shapes/ folders != lessons.toml [shapes]"
    built = {name for lesson in manifest.lessons for name in lesson.test_shapes}
    assert built == set(manifest.shapes), "a shape no lesson builds, or an unknown one"
    for lesson in manifest.lessons:
        for name in lesson.test_shapes:
            shape = manifest.shapes[name]
            assert lesson.production, f"{lesson.id} has no top block to build {name} with"
            assert shape.app in manifest.apps, name
            block = topblock.values((lesson.directory / shape.tool / "Dockerfile").read_text())
            assert {key for key, _ in shape.top_block} <= set(block), name


def test_lesson_ids_are_numbered_in_order(manifest: Manifest) -> None:
    for number, lesson in enumerate(manifest.lessons, start=1):
        assert re.fullmatch(r"\d{2}-[a-z0-9]+(-[a-z0-9]+)*", lesson.id), lesson.id
        assert lesson.number == number, f"{lesson.id} is out of order"


def test_manifest_references_exist(manifest: Manifest) -> None:
    pins = load_pins()
    assert manifest.primary_app in manifest.apps
    assert set(manifest.peer_apps) <= set(manifest.apps)
    for lesson in manifest.lessons:
        assert lesson.app in manifest.apps
        assert lesson.base in pins.images, f"{lesson.id}: base {lesson.base!r} not in pins.toml"
        assert set(lesson.tools) <= set(manifest.tools)
        assert set(lesson.claims) <= set(manifest.claims), f"{lesson.id}: unknown claim"
        assert set(lesson.test_apps) | set(lesson.measure_apps) <= set(manifest.apps), lesson.id
    for app in manifest.apps.values():
        assert (app.source_dir / app.package / "__init__.py").exists()
        assert (app.source_dir / app.code_file).exists()
    for peer in manifest.peers.values():
        assert peer.tool in manifest.tools, peer.name
        assert (peer.directory / "Dockerfile").is_file()
        assert (peer.directory / ".dockerignore").is_file()
    for variation in manifest.variations.values():
        assert set(variation.tools) <= set(manifest.lesson(variation.lesson).tools)
    from buildlab.bench.store import SCENARIOS

    metrics = {"size", *SCENARIOS}
    for target in manifest.targets:
        for ref in (target.of, target.to):
            if ref is not None:
                assert ref.metric in metrics, target.says
                assert ref.app in manifest.apps, target.says
                assert ref.peers or manifest.lesson(ref.lesson or ""), target.says
        assert set(target.tools) <= set(manifest.tools), target.says


def test_peer_folders_match_the_manifest(manifest: Manifest) -> None:
    from buildlab.support.paths import PEERS_DIR

    assert {p.name for p in PEERS_DIR.iterdir() if p.is_dir()} == set(manifest.peers)


def test_every_claim_has_a_test_and_every_test_a_claim(manifest: Manifest) -> None:
    assert set(manifest.claims) == set(CLAIMS)


def test_every_claim_has_a_negative_control_or_says_why_it_holds_earlier(
    manifest: Manifest,
) -> None:
    """A control (a lesson with one thing broken, or one that does not make the claim), an
    exercise that must fail it, or the reason it rightly holds earlier."""
    from buildlab.claims.breaks import BREAKS

    in_exercises = {entry.claim for lesson in manifest.lessons for entry in lesson.unsolved}
    for claim in manifest.claims.values():
        assert claim.control or claim.id in in_exercises or claim.holds_earlier, (
            f"{claim.id}: no control, no exercise fails it, and no reason it holds earlier"
        )
        assert claim.hint, f"{claim.id}: no hint for a learner"
        assert len(re.findall(r"[.!?](\s|$)", claim.hint)) <= 2, f"{claim.id}: hint too long"
        if claim.control is None:
            continue
        lesson = manifest.lesson(claim.control.lesson)
        assert claim.control.tool in lesson.tools, claim.id
        assert claim.control.breaks in (None, *BREAKS), claim.id
        re.compile(claim.control.fails_with)
        makers = [each for each in manifest.lessons if claim.id in each.claims]
        assert makers, f"{claim.id}: no lesson makes it"
        if claim.control.breaks is None:  # a control lesson that does not make the claim
            assert lesson not in makers, f"{claim.id}: {lesson.id} makes the claim it controls"


def test_every_exercise_has_a_task_and_fails_before_it_is_solved(manifest: Manifest) -> None:
    """Each lesson but the first names, for every tool, a claim its exercise must fail (a
    claim of this lesson, with a reason pattern), or says why that tool starts solved; and the
    task is at most five steps."""
    for lesson in manifest.lessons:
        assert lesson.goal, f"{lesson.id}: no goal"
        assert 1 <= len(lesson.task) <= 5, f"{lesson.id}: {len(lesson.task)} task steps"
        if manifest.previous(lesson) is None:
            continue
        solved = dict(lesson.starts_solved)
        assert set(solved) <= set(lesson.tools), lesson.id
        for entry in lesson.unsolved:
            assert entry.claim in lesson.claims, f"{lesson.id}: {entry.claim} is not its claim"
            assert set(entry.tools) <= set(lesson.tools), lesson.id
            re.compile(entry.fails_with)
        for tool in lesson.tools:
            failing = [u for u in lesson.unsolved if not u.tools or tool in u.tools]
            assert failing or tool in solved, f"{lesson.id}/{tool}: the exercise starts solved"
            assert not (failing and tool in solved), f"{lesson.id}/{tool}: both"


def test_a_solved_exercise_is_the_lesson_folder(tmp_path: Path, manifest: Manifest) -> None:
    """The exercise is the lesson's context with the learner's files from the previous lesson:
    with the lesson's own learner files put back, it is the lesson folder, file for file."""
    from buildlab.learn.exercise import LEARNER_FILES, lay_out, overlay

    for variant in manifest.all_variants():
        folder = tmp_path / variant.lesson.id / variant.tool
        lay_out(manifest, variant.lesson, variant.tool, folder)
        overlay(folder, variant.directory)
        ours = {
            p.relative_to(variant.directory)
            for p in variant.directory.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }
        theirs = {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()}
        assert ours == theirs, variant.name
        for path in ours:
            assert (folder / path).read_bytes() == (variant.directory / path).read_bytes()
        previous = manifest.previous(variant.lesson)
        start = tmp_path / "start" / variant.name
        lay_out(manifest, variant.lesson, variant.tool, start)
        if previous is not None:
            for name in LEARNER_FILES:
                mine = previous.directory / variant.tool / name
                assert (start / name).is_file() == mine.is_file(), f"{variant.name}: {name}"


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_variant_folder_is_a_complete_build_context(variant: Variant) -> None:
    tool = TOOLS[variant.tool]
    app = MANIFEST.apps[variant.lesson.app]
    required = [
        "Dockerfile",
        ".dockerignore",
        *tool.manifest_files,
        tool.lock_file,
        f"{app.package}/__init__.py",
    ]
    missing = [name for name in required if not (variant.directory / name).is_file()]
    assert not missing, f"{variant.name} lacks {missing}"
    links = [p for p in variant.directory.rglob("*") if p.is_symlink()]
    assert not links, f"Docker cannot follow links out of the context: {links}"


def test_every_lesson_has_a_readme(manifest: Manifest) -> None:
    for lesson in manifest.lessons:
        assert (lesson.directory / "README.md").is_file(), lesson.id


def test_app_copies_match_apps_folder(manifest: Manifest) -> None:
    assert sync.drift(manifest) == []


def test_sync_reports_a_drifted_copy(tmp_path: Path, manifest: Manifest) -> None:
    lesson = manifest.lesson("01-naive")
    copy = tmp_path / lesson.id
    shutil.copytree(lesson.directory, copy)
    variant = Variant(lesson, lesson.tools[0], tmp_path)
    app = manifest.apps[lesson.app]
    (copy / variant.tool / app.code_file).write_text("# edited by hand\n")
    assert sync.drift(manifest, [variant]) == [
        f"{variant.name}: {app.code_file} differs from its original"
    ]


@pytest.mark.parametrize("app", sorted(MANIFEST.apps))
def test_tool_manifests_declare_the_same_dependencies(app: str) -> None:
    declared = {
        tool: TOOLS[tool].declared(MANIFEST.apps[app].manifests_dir(tool))
        for tool in MANIFEST.tools
    }
    first = declared[MANIFEST.tools[0]]
    for tool, deps in declared.items():
        assert deps == first, f"{tool} declares {deps}, {MANIFEST.tools[0]} declares {first}"


PRIVATE_VARIANTS = [v for v in VARIANTS if v.lesson.private_index]


@pytest.mark.parametrize("variant", PRIVATE_VARIANTS, ids=[v.name for v in PRIVATE_VARIANTS])
def test_private_package_is_tied_to_the_private_index_without_credentials(
    variant: Variant,
) -> None:
    from buildlab.engine.private_index import PACKAGE_NAME, URL

    url, tied = TOOLS[variant.tool].index_tie(variant.directory, PACKAGE_NAME)
    assert url.rstrip("/") == URL.rstrip("/"), f"{variant.name} names {url}, the index is {URL}"
    assert tied, f"{variant.name}: acme-holidays is not tied to the private index"
    for path in variant.directory.iterdir():
        if path.is_file():
            assert not re.search(r"//[^/\s]*@", path.read_text()), f"credentials in {path}"


@pytest.mark.parametrize("variant", PRIVATE_VARIANTS, ids=[v.name for v in PRIVATE_VARIANTS])
def test_private_index_lesson_is_its_base_lesson_plus_the_secret_mount(variant: Variant) -> None:
    """Lesson 10 is lesson 08's Dockerfile with one mount added to the install step (and its
    app's name): every claim of lesson 08 that is about the image holds for it unchanged."""
    previous = MANIFEST.previous(variant.lesson)
    assert previous is not None
    base = previous.directory / variant.tool
    old = (base / "Dockerfile").read_text().splitlines()
    new = (variant.directory / "Dockerfile").read_text().splitlines()
    changed = list(difflib.ndiff(old, new))

    def code(sign: str) -> list[str]:
        lines = [line[2:] for line in changed if line.startswith(sign)]
        return [line for line in lines if not line.lstrip().startswith("#")]

    app = dict(MANIFEST.apps[variant.lesson.app].top_block)["APP"]
    base_app = dict(MANIFEST.apps[previous.app].top_block)["APP"]
    assert code("- ") == [f"ARG APP={base_app}"]
    assert code("+ ") == [
        f"ARG APP={app}",
        "    --mount=type=secret,id=netrc,target=/root/.netrc,required \\",
    ]
    assert (variant.directory / ".dockerignore").read_text() == (base / ".dockerignore").read_text()


DJANGO_VARIANTS = [Variant(MANIFEST.lesson("11"), tool) for tool in MANIFEST.tools]


@pytest.mark.parametrize("variant", DJANGO_VARIANTS, ids=[v.name for v in DJANGO_VARIANTS])
def test_django_lesson_is_lesson_07_plus_the_static_stage_and_data(variant: Variant) -> None:
    """Lesson 11 is lesson 07's Dockerfile with the same Django lines in every tool: lesson
    07's other promises hold for it unchanged, and the four tools cannot drift apart."""
    base = MANIFEST.lesson("07").directory / variant.tool
    old = (base / "Dockerfile").read_text().splitlines()
    new = (variant.directory / "Dockerfile").read_text().splitlines()
    changed = list(difflib.ndiff(old, new))

    def code(sign: str) -> list[str]:
        lines = [line[2:] for line in changed if line.startswith(sign)]
        return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]

    assert code("- ") == [
        "ARG APP=dates_service:app",
        " && find / -xdev -perm /6000 -type f -exec chmod a-s {} +",
        "ARG SERVER APP PORT HEALTH_PATH SOURCE_ROOT",
        '    PYTHONPATH="/app/${SOURCE_ROOT}"',
    ]
    assert code("+ ") == [
        "ARG APP=shelf.wsgi:application",
        "ARG DJANGO_SETTINGS_MODULE=shelf.settings",
        "ARG STATIC_ROOT=staticfiles",
        'ARG COLLECT_ENV=""',
        "FROM builder AS static",
        "COPY . .",
        "ARG SOURCE_ROOT DJANGO_SETTINGS_MODULE STATIC_ROOT COLLECT_ENV",
        'RUN env $COLLECT_ENV PYTHONPATH="/app/${SOURCE_ROOT}" '
        'DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE}" \\',
        "    .venv/bin/django-admin collectstatic --noinput \\",
        ' && find "${STATIC_ROOT}" -exec touch --no-dereference --date=@0 {} +',
        "ARG STATIC_ROOT",
        "COPY --from=static /app/${STATIC_ROOT} /app/${STATIC_ROOT}",
        " && find / -xdev -perm /6000 -type f -exec chmod a-s {} + \\",
        " && install -d --owner 10001 --group 0 --mode 0770 /data",
        "ARG SERVER APP PORT HEALTH_PATH SOURCE_ROOT DJANGO_SETTINGS_MODULE",
        '    PYTHONPATH="/app/${SOURCE_ROOT}" \\',
        '    DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE}"',
    ]
    dockerignore = (variant.directory / ".dockerignore").read_text()
    assert dockerignore.startswith((base / ".dockerignore").read_text())


def test_a_private_index_that_does_not_answer_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from buildlab.engine import private_index
    from buildlab.support.errors import EngineError
    from buildlab.support.proc import free_port

    monkeypatch.setattr(private_index, "PORT", free_port())
    monkeypatch.setattr(private_index, "NETRC", tmp_path / "netrc")
    for attempt in (
        lambda: private_index.ensure_private_index(fix=False, say=lambda _: None),
        lambda: private_index.build_args(True),
    ):
        with pytest.raises(EngineError) as error:
            attempt()
        assert error.value.message.startswith("No private package index answers at http://")
        assert "\n" not in error.value.message
        assert "make doctor" in error.value.message


def test_private_wheel_builds_reproducibly_with_the_hash_every_lock_records(
    tmp_path: Path,
) -> None:
    from buildlab.engine.private_index import build_wheel, sha256

    first = build_wheel(tmp_path / "a")
    (tmp_path / "b").mkdir()
    again = build_wheel(tmp_path / "b")
    assert first.read_bytes() == again.read_bytes()
    for variant in PRIVATE_VARIANTS:
        lock = variant.directory / TOOLS[variant.tool].lock_file
        assert f"sha256:{sha256(first)}" in lock.read_text(), f"{lock} records another wheel"


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_hadolint(variant: Variant) -> None:
    ok, output = hadolint(variant.directory / "Dockerfile")
    assert ok, output


def test_github_workflow_is_valid_and_uses_the_exported_cache() -> None:
    from buildlab.course.lint import WORKFLOWS, workflow_lint

    ok, output = workflow_lint()
    assert ok, output
    text = (WORKFLOWS / "ci.yml").read_text()
    lesson = next(
        lesson for lesson in MANIFEST.lessons if "cache-export-survives-prune" in lesson.claims
    )
    assert f"lessons/{lesson.id}/" in text  # the lesson that teaches the CI cache
    assert "cache-from: type=gha" in text
    assert "cache-to: type=gha,mode=max" in text
    assert "make test" in text


def test_workflow_actions_are_pinned_by_commit_with_the_version_in_a_comment() -> None:
    from buildlab.course.lint import WORKFLOWS

    for workflow in WORKFLOWS.glob("*.y*ml"):
        uses = re.findall(r"^\s*-?\s*uses:\s*(.+)$", workflow.read_text(), flags=re.M)
        assert uses, f"{workflow.name} uses no action"
        loose = [u for u in uses if not re.fullmatch(r"[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*", u)]
        assert not loose, f"{workflow.name}: not pinned by SHA with '# vX.Y.Z': {loose}"


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_dockerfile_uses_pinned_versions(variant: Variant) -> None:
    from buildlab.course.dockerfile import from_lines

    pins = load_pins()
    text = (variant.directory / "Dockerfile").read_text()
    lines = from_lines(text)
    stages = {alias for _, alias in lines}
    bases = [image for image, _ in lines if image not in stages]  # FROM builder: a stage
    assert bases, "no FROM"
    assert bases[-1] == pins.image(variant.lesson.base), bases
    builder = pins.image(variant.lesson.builder) if variant.lesson.builder else bases[-1]
    assert set(bases[:-1]) <= {builder}, f"builder stages {bases[:-1]}, pins say {builder}"
    installs = re.findall(r"pip install[^\n]*?\b([a-z][a-z0-9-]*)==([\w.]+)", text)
    for name, version in installs:
        assert pins.tools.get(name) == version, (
            f"{name}=={version}, pins.toml says {pins.tools.get(name)}"
        )
    tool = TOOLS[variant.tool]
    if tool.installed_in_image:  # pip-tools' lock needs only the base image's pip
        assert (tool.package, pins.tool(tool.package)) in installs, "tool not pinned"


LOCK_FOLDERS = MANIFEST.lock_folders(VARIANTS)


@pytest.mark.parametrize(
    "folder", [f for f in LOCK_FOLDERS if not TOOLS[f.tool].check_in_image], ids=lambda f: f.name
)
def test_lock_is_fresh_by_its_tools_own_check(folder: LockFolder) -> None:
    assert stale_locks([folder], in_image=False) == []


@pytest.mark.parametrize(
    "variant", [v for v in VARIANTS if v.lesson.production], ids=lambda v: v.name
)
def test_top_block_defaults_are_the_apps_values(variant: Variant) -> None:
    from buildlab.course import topblock

    values = topblock.values((variant.directory / "Dockerfile").read_text())
    wanted = dict(MANIFEST.apps[variant.lesson.app].top_block)
    assert {name: values.get(name) for name in wanted} == wanted


def test_production_dockerfiles_differ_from_07_only_where_lesson_08_adds() -> None:
    """Lesson 08 is lesson 07 plus its own lines: the same top block, the same build."""
    from buildlab.course import topblock

    first, second = (
        MANIFEST.lesson("07-production"),
        MANIFEST.lesson("08-ci-cache-and-reproducible"),
    )
    for tool in first.tools:
        old = (first.directory / tool / "Dockerfile").read_text()
        new = (second.directory / tool / "Dockerfile").read_text()
        assert topblock.values(old) == topblock.values(new), tool
        missing = set(old.splitlines()) - set(new.splitlines())
        assert all(line.startswith("# Lesson 07") for line in missing), (tool, missing)


@pytest.mark.parametrize(
    "variant", [v for v in VARIANTS if v.lesson.dev_stage], ids=lambda v: v.name
)
def test_dev_stage_lesson_is_the_previous_production_image_plus_a_dev_stage(
    variant: Variant,
) -> None:
    """Lesson 09's production target is lesson 08's Dockerfile, unchanged but for its header,
    so every claim proven on lesson 08 (and 07) holds for it; the dev stage comes between the
    builder and the runtime, and compose.yaml stays out of the image."""
    before = MANIFEST.previous(variant.lesson)
    assert before is not None
    previous = before.directory / variant.tool
    new = (variant.directory / "Dockerfile").read_text()
    dev = re.search(r"^# --- dev: .*?(?=^# --- runtime:)", new, flags=re.S | re.M)
    assert dev, "no dev stage before the runtime stage"
    assert "\nFROM builder AS dev\n" in dev.group(0)
    without_dev = new.replace(dev.group(0), "")
    old = (previous / "Dockerfile").read_text()
    assert without_dev.splitlines()[2:] == old.splitlines()[2:]
    ignored = (variant.directory / ".dockerignore").read_text().splitlines()
    assert "compose.yaml" in ignored
    assert [line for line in ignored if line != "compose.yaml"] == (
        (previous / ".dockerignore").read_text().splitlines()
    )
    assert (variant.directory / "compose.yaml").is_file()


def test_added_dependency_manifests_are_the_apps_plus_one_dependency(manifest: Manifest) -> None:
    for variant in [v for v in VARIANTS if v.lesson.added_dependency]:
        folder = manifest.added_dependency_dir(variant.lesson, variant.tool)
        with scratch_dir(manifest.apps[variant.lesson.app].manifests_dir(variant.tool)) as want:
            TOOLS[variant.tool].add_dependency(want, variant.lesson.added_dependency)
            for name in TOOLS[variant.tool].manifest_files:
                assert (folder / name).read_text() == (want / name).read_text(), folder / name


def test_other_apps_have_a_manifest_and_lock_per_tool(manifest: Manifest) -> None:
    from buildlab.course.locks import lock_path

    folders = [
        f for f in manifest.lock_folders(manifest.all_variants()) if f.name.startswith("apps/")
    ]
    assert folders, "no lesson builds another app"
    for folder in folders:
        names = TOOLS[folder.tool].manifest_files
        assert all((folder.directory / name).is_file() for name in names), folder.name
        assert lock_path(folder).is_file(), f"{folder.name}: no lock: run `make relock`"


def test_host_lock_check_catches_a_stale_lock(tmp_path: Path, manifest: Manifest) -> None:
    lesson = manifest.lesson("07-production")
    shutil.copytree(lesson.directory, tmp_path / lesson.id)
    stale = []
    for tool in [name for name in lesson.tools if not TOOLS[name].check_in_image]:
        variant = Variant(lesson, tool, tmp_path)
        TOOLS[tool].add_dependency(variant.directory)
        stale.append(variant)
    problems = stale_locks(manifest.lock_folders(stale), in_image=False)
    assert [p.split(":")[0] for p in problems] == [v.name for v in stale]


def test_pins_cover_every_tool() -> None:
    pins = load_pins()
    for tool in TOOLS.values():
        assert tool.package in pins.tools


@pytest.mark.parametrize("folder", LOCK_FOLDERS, ids=lambda f: f.name)
def test_every_lock_is_its_tools_own_output(folder: LockFolder) -> None:
    """Each lock says it was written by its tool (the pinned version where the format has
    room for it) and pip-tools' says how to regenerate it: `buildlab relock`."""
    from buildlab.course.locks import lock_path

    problem = TOOLS[folder.tool].own_output_problem(lock_path(folder).read_text())
    assert problem == "", f"{folder.name}: {problem}"


README_SHAPE = [
    r"^# Lesson \d{2}: .+",
    r"^\*\*Goal:\*\* ",
    r"^## Why it works",  # the reason first, in a few sentences
    r"^## Your turn$",  # the exercise, the check command and the claims it runs
    r"^## The solution$",  # one tool's diff, collapsed; every tool's on solutions.md
    r"^## Try it$",
    r"^## What you should see$",
    r"^## Measured$",
    r"^## Next$",
]
# A page's hand-written part (its lines outside generated blocks): short, as the model's are.
HAND_WRITTEN_LINES = 200
# "Why it works" comes before the exercise, so it is a few sentences; the rest of the story
# goes under "In depth", after what the learner should see.
WHY_LINES = 10


@pytest.mark.parametrize("lesson", MANIFEST.lessons, ids=lambda lesson: lesson.id)
def test_lesson_readme_has_the_course_shape(lesson) -> None:  # type: ignore[no-untyped-def]
    from buildlab.pages.docs import BLOCK

    text = (lesson.directory / "README.md").read_text()
    lines = text.splitlines()
    position = 0
    for pattern in README_SHAPE:
        hits = [i for i, line in enumerate(lines) if re.match(pattern, line)]
        assert hits, f"{lesson.id}/README.md: {pattern!r} missing"
        assert hits[0] >= position, f"{lesson.id}/README.md: {pattern!r} out of order"
        position = hits[0]
    assert lines[0] == f"# Lesson {lesson.id[:2]}: {lesson.title}"
    goal = " ".join(text.split("**Goal:** ", 1)[1].split("\n\n", 1)[0].split())
    assert goal[1:] == lesson.goal[1:], f"{lesson.id}: the README's goal is not lessons.toml's"
    generated = sum(len(m.group(0).splitlines()) for m in BLOCK.finditer(text))
    assert len(lines) - generated <= HAND_WRITTEN_LINES, f"{lesson.id}: shorten the page"
    if "## In depth" in lines:  # optional: the rest of the story, after what the learner sees
        depth = lines.index("## In depth")
        assert lines.index("## What you should see") < depth < lines.index("## Measured"), (
            f"{lesson.id}/README.md: '## In depth' goes between what you should see and measured"
        )
    why = text.split("## Why it works", 1)[1].split("\n## ", 1)[0]
    prose = [line for line in why.splitlines()[1:] if line.strip()]
    assert len(prose) <= WHY_LINES, f"{lesson.id}: 'Why it works' has {len(prose)} lines"


def test_generated_doc_blocks_and_charts_are_fresh(manifest: Manifest) -> None:
    from buildlab.pages.docs import stale_docs

    assert stale_docs(manifest, check=True) == [], "run `make docs`"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["build", "99", "uv"],
            "valid lessons: " + ", ".join(lesson.id for lesson in MANIFEST.lessons),
        ),
        (["run", "01", "npm"], "valid tools: pip-tools, pipenv, poetry, uv"),
        (["measure", "--tool", "conda"], "valid tools: pip-tools, pipenv, poetry, uv"),
        (["measure", "--lesson", "42"], "valid lessons: "),
        (["measure", "--app", "rails"], "valid apps: " + ", ".join(MANIFEST.apps)),
        (["measure", "--peer", "cookiecutter"], "valid peers: " + ", ".join(MANIFEST.peers)),
        (["measure", "--app", "fastapi", "--lesson", "01"], "nothing to measure"),
        (["measure", "--repeat", "0"], "--repeat must be 1 or more"),
        (["relock", "--lesson", "nope"], "valid lessons:"),
        (["dev", "08", "uv"], "has no dev stage (lessons with one: "),
        (["build", "10", "uv", "--netrc", "/nonexistent/netrc"], "no netrc file at /nonexistent"),
    ],
)
def test_unknown_names_exit_2_with_the_valid_ones(args: list[str], expected: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_no_engine_is_one_clear_sentence() -> None:
    result = run_cli("build", "01", "uv", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert result.returncode == 3
    assert result.stderr.startswith("buildlab: No Docker engine answers")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_dev_loop_refuses_a_busy_port_and_a_missing_compose_in_one_line() -> None:
    import socket

    dev = next(lesson for lesson in MANIFEST.lessons if lesson.dev_stage)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        result = run_cli("dev", dev.id, "uv", "--port", port)
    assert result.returncode == 2
    assert (
        result.stderr
        == f"buildlab: port {port} on 127.0.0.1 is in use: pass --port with a free one\n"
    )
    result = run_cli("dev", dev.id, "uv", env={"PATH": "/nonexistent"})  # no docker at all
    assert result.returncode == 3
    assert result.stderr.startswith(
        "buildlab: Docker Compose is missing: the development loop needs"
    )
    assert len(result.stderr.strip().splitlines()) == 1


def test_no_registry_is_one_clear_sentence() -> None:
    result = run_cli(
        "measure",
        "--lesson",
        "01",
        "--tool",
        "uv",
        "--repeat",
        "1",
        env={"BUILDLAB_REGISTRY": "127.0.0.1:9"},
    )
    assert result.returncode == 3
    assert result.stderr.startswith("buildlab: No image registry answers at http://127.0.0.1:9/v2/")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_build_log_parser_finds_cached_and_failed_steps() -> None:
    from buildlab.engine import buildlog

    log = "\n".join(
        [
            "#5 [2/4] WORKDIR /app",
            "#5 CACHED",
            "#6 [3/4] RUN uv sync --no-install-project",
            "#6 0.120 Resolved 17 packages",
            "#6 DONE 1.5s",
            "#7 [4/4] RUN false",
            '#7 ERROR: process "/bin/sh -c false" did not complete successfully',
        ]
    )
    steps = buildlog.parse(log)
    assert [s.cached for s in steps] == [True, False, False]
    assert buildlog.first_step(steps, "uv sync").seconds == 1.5
    assert "failed step: [4/4] RUN false" in buildlog.failure_summary(log, steps)


def test_a_base_image_the_engine_cannot_pull_is_one_line_naming_it() -> None:
    from buildlab.engine import buildlog

    # Docker 26's own last line, as this project's engine printed it for a Python it lacks.
    log = (
        "ERROR: failed to solve: python:3.12-slim-trixie: failed to resolve source metadata "
        "for docker.io/library/python:3.12-slim-trixie: failed to do request: Head "
        '"https://registry-1.docker.io/v2/library/python/manifests/3.12-slim-trixie": dial '
        "tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host"
    )
    line = buildlog.missing_base_image(log)
    assert line is not None
    assert "\n" not in line
    assert line.startswith("the base image python:3.12-slim-trixie is not on this engine")
    assert "(no such host)" in line
    assert "--python" in line
    assert buildlog.missing_base_image("ERROR: process did not complete successfully") is None


def test_measure_selects_lessons_tools_apps_and_peers_from_the_manifest(manifest: Manifest) -> None:
    from buildlab.bench.subjects import select_subjects

    everything = select_subjects(manifest, lessons=None, tools=None, apps=None, peers=None)
    lessons = [s for s in everything if s.kind == "lesson"]
    measured = [v for v in manifest.all_variants() if not v.lesson.same_image_as_previous]
    assert len([s for s in lessons if s.app == s.own_app]) == len(measured)
    assert {(s.name, s.app.name) for s in lessons if s.app != s.own_app} == {
        (lesson.id, app) for lesson in manifest.lessons for app in lesson.measure_apps
    }
    peers = [s for s in everything if s.kind == "peer"]
    assert len(peers) == len(manifest.peers) * len(manifest.peer_apps)
    assert [s.kind for s in everything if s.kind == "variation"]
    only = select_subjects(manifest, lessons=["07"], tools=["uv"], apps=["fastapi"], peers=None)
    assert [(s.variant.name, s.app.name) for s in only] == [("07-production/uv", "fastapi")]
    one_peer = select_subjects(manifest, lessons=None, tools=None, apps=None, peers=["uv-example"])
    assert {(s.kind, s.name) for s in one_peer} == {("peer", "uv-example")}
    # A lesson that builds the previous one's image is left out, and naming it is bad input.
    same = [lesson for lesson in manifest.lessons if lesson.same_image_as_previous]
    assert same
    assert not {s.name for s in everything} & {lesson.id for lesson in same}
    with pytest.raises(UsageError, match="the previous lesson's image"):
        select_subjects(manifest, lessons=[same[0].id], tools=None, apps=None, peers=None)
    # make demo's default: every measured lesson with its own app, lesson 10's included.
    demo = select_subjects(
        manifest, lessons=None, tools=["uv"], apps=None, peers=None, own_apps=True
    )
    assert {(s.name, s.app.name) for s in demo if s.kind == "lesson"} == {
        (v.lesson.id, v.lesson.app) for v in measured if v.tool == "uv"
    }
    assert {s.app.name for s in demo if s.kind != "lesson"} == {manifest.primary_app}


def test_summary_reports_median_and_range() -> None:
    from buildlab.bench.figures import Summary

    assert Summary([3.0, 1.0, 2.0], 0, 4, 6).text() == "2.0 (1.0–3.0)"
    assert Summary([2.0], 0, 4, 6).text() == "2.0"
    assert Summary([], 2, None, None).text() == "failed"
    assert Summary([2.0, 4.0], 1, 4, 6).text() == "3.0 (2.0–4.0; 1 failed)"


def test_committed_results_match_their_schema() -> None:
    from buildlab.bench.store import COMMITTED_RESULTS, schema_problems

    assert COMMITTED_RESULTS.exists(), "no committed results: run `make measure`"
    assert schema_problems(COMMITTED_RESULTS) == ""


def test_committed_results_cover_every_subject(manifest: Manifest) -> None:
    """Every lesson in every tool and app, every peer and variation: 3 rounds, pushes counted."""
    from buildlab.bench.store import COMMITTED_RESULTS, load
    from buildlab.bench.subjects import select_subjects

    data = load(COMMITTED_RESULTS)
    measured = {(b["kind"], b["subject"], b["tool"], b["app"]): b for b in data["builds"]}
    missing = []
    for subject in select_subjects(manifest, lessons=None, tools=None, apps=None, peers=None):
        build = measured.get((subject.kind, subject.name, subject.tool, subject.app.name))
        if build is None or {r["repetition"] for r in build["runs"]} != {1, 2, 3}:
            missing.append(subject.label)
        elif "code_compressed_bytes" not in build or (
            subject.times_startup and "startup_import_ms" not in build
        ):
            missing.append(f"{subject.label} (code size or start-up)")
    assert data["complete"], "the committed run did not finish"
    assert not missing, f"not in the committed results: {missing}"
    assert data["repetitions"] >= 3, "the committed results are `make measure`'s 3 repetitions"


def test_every_missed_target_is_explained(manifest: Manifest) -> None:
    """A target the committed run missed has its reason in lessons.toml (`why_missed`), and
    the results page shows it with each side's step times."""
    from buildlab.bench.store import COMMITTED_RESULTS, load
    from buildlab.bench.targets import evaluate_targets

    data = load(COMMITTED_RESULTS)
    page = (ROOT / "docs" / "results.md").read_text()
    unexplained = []
    for spec in manifest.targets:
        missed = [t for t in evaluate_targets(data, [spec], list(manifest.tools)) if t.met is False]
        if missed and not spec.why_missed:
            unexplained.append(spec.says)
        for target in missed:
            assert target.evidence, (target.says, target.tool)
            assert target.evidence in page, (target.says, target.tool)
    assert not unexplained, f"missed targets with no why_missed in lessons.toml: {unexplained}"


def test_docs_site_builds_strict(tmp_path: Path) -> None:
    result = run_cli("site", "--site-dir", str(tmp_path / "site"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "lessons" / "07-production" / "index.html").exists()
    assert (tmp_path / "site" / "docs" / "results" / "image-size.png").exists()


@pytest.mark.parametrize(
    "checker",
    [
        ["mypy", "scripts/buildlab", "tests"],  # strict: pyproject.toml [tool.mypy]
        ["ruff", "check", "scripts/buildlab", "tests"],  # rules: pyproject.toml [tool.ruff]
        ["ruff", "format", "--check", "scripts/buildlab", "tests"],
    ],
    ids=["mypy", "ruff", "ruff-format"],
)
def test_tooling_is_typed_and_lint_clean(checker: list[str]) -> None:
    from buildlab.support.paths import ROOT

    tool = Path(sys.executable).with_name(checker[0])
    result = subprocess.run(
        [str(tool), *checker[1:]], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_engine_failure_is_not_reported_as_a_stale_lock(
    manifest: Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    from buildlab.course import locks
    from buildlab.support.errors import ContainerFailed

    def engine_fails(*_: object, **__: object) -> str:
        raise ContainerFailed("docker could not start a container of x (twice)")

    monkeypatch.setattr(locks, "run_container", engine_fails)
    monkeypatch.setattr(locks, "require_engine", lambda: None)
    folders = [
        f for f in manifest.lock_folders(manifest.all_variants()) if TOOLS[f.tool].check_in_image
    ]
    with pytest.raises(ContainerFailed):
        stale_locks(folders[:1], in_image=True)


def _commands_in_markdown() -> list[tuple[str, str, str]]:
    """(file, "make"/"cli", name) for every `make X`, `scripts/cli X` and `buildlab X` written
    as code (inline or in a fenced block) in the repository's Markdown."""
    from buildlab.support.paths import ROOT

    found = []
    pattern = re.compile(r"\b(make|scripts/cli|buildlab)\s+([a-z][a-z-]*)")
    markdown = [
        path
        for path in ROOT.rglob("*.md")
        if not any(part.startswith(".") for part in path.relative_to(ROOT).parts)
    ]
    for path in markdown:
        text = path.read_text()
        code = re.findall(r"```.*?```", text, flags=re.S) + re.findall(r"`[^`\n]+`", text)
        for span in code:
            for tool, name in pattern.findall(span):
                found.append(
                    (str(path.relative_to(ROOT)), "make" if tool == "make" else "cli", name)
                )
    return found


def _cli_commands() -> set[str]:
    from buildlab.cli import _parser

    return {
        name
        for action in _parser()._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
    }


def test_every_command_the_docs_name_exists() -> None:
    from buildlab.support.paths import ROOT

    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), flags=re.M))
    commands = _cli_commands()
    found = _commands_in_markdown()
    assert found, "no command found in the Markdown: the pattern is wrong"
    wrong = [
        f"{path}: {kind} {name}"
        for path, kind, name in found
        if name not in (targets if kind == "make" else commands)
    ]
    assert not wrong, f"named in the docs, but no such make target or command: {wrong}"


def test_pre_commit_hooks_run_commands_that_exist() -> None:
    import yaml

    from buildlab.support.paths import ROOT

    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    entries = [hook["entry"].split() for repo in config["repos"] for hook in repo["hooks"]]
    assert entries
    for entry in entries:
        assert (ROOT / entry[0]).exists(), entry
        if entry[0] == "scripts/cli":
            assert entry[1] in _cli_commands(), entry


def test_another_app_changes_only_what_a_reader_would_edit(manifest: Manifest) -> None:
    """Lesson 07 with another app: only its top block changes, to the app's values. A peer
    starting its venv's gunicorn keeps doing so for the heavy app."""
    from buildlab.bench.campaign import prepared
    from buildlab.bench.subjects import select_subjects
    from buildlab.course import topblock

    lesson = manifest.lesson("07")
    dockerfile = (lesson.directory / "uv" / "Dockerfile").read_text()
    chosen = select_subjects(
        manifest, lessons=["07"], tools=["uv"], apps=None, peers=None
    ) + select_subjects(manifest, lessons=None, tools=None, apps=None, peers=["pipenv-docs"])
    texts = {}
    for subject in chosen:
        with prepared(subject) as context:
            texts[(subject.name, subject.app.name)] = (context / "Dockerfile").read_text()
    for name in ("fastapi", "reports"):
        text = texts[(lesson.id, name)]
        assert topblock.outside(text) == topblock.outside(dockerfile), name
        values = topblock.values(text)
        assert {k: values[k] for k, _ in manifest.apps[name].top_block} == dict(
            manifest.apps[name].top_block
        )
    (cmd,) = [
        line for line in texts[("pipenv-docs", "reports")].splitlines() if line.startswith("CMD ")
    ]
    assert json.loads(cmd[len("CMD ") :])[0] == "./.venv/bin/gunicorn"
    assert json.loads(cmd[len("CMD ") :])[-1] == "report_service:app"


@pytest.mark.parametrize("name", sorted(MANIFEST.shapes))
def test_adopt_guesses_every_value_of_a_shapes_top_block(name: str, tmp_path: Path) -> None:
    """`buildlab adopt` reads a shape and finds the values the manifest gives its block (the
    port, which no file says, is passed as --port), and writes the very Dockerfile (but for its
    first comment line) and .dockerignore that project-shapes-serve builds, serves and edits
    in the Docker tier: adopt on a shape is proven there."""
    from buildlab.adopt.detect import detect
    from buildlab.adopt.prove import write
    from buildlab.course.scenarios import shaped_project

    shape = MANIFEST.shapes[name]
    block = dict(shape.top_block)
    with shaped_project(MANIFEST, shape, MANIFEST.lesson("07").directory / shape.tool) as project:
        built = {n: (project / n).read_text() for n in ("Dockerfile", ".dockerignore")}
        (project / "Dockerfile").unlink()
        (project / ".dockerignore").unlink()
        port = int(block["PORT"]) if "PORT" in block else None
        # A workspace's member is the one thing adopt cannot guess: it is named.
        guess = detect(MANIFEST, project, ProjectOptions(port=port, package=block.get("PACKAGE")))
        write(MANIFEST, project, guess, force=False)
        written = {n: (project / n).read_text() for n in ("Dockerfile", ".dockerignore")}
    assert guess.tool == shape.tool
    assert {key: guess.values.get(key) for key in block} == block, guess.how
    assert written[".dockerignore"] == built[".dockerignore"]
    assert written["Dockerfile"].splitlines()[1:] == built["Dockerfile"].splitlines()[1:]


def test_adopt_guesses_a_project_unlike_any_lesson(tmp_path: Path) -> None:
    from buildlab.adopt.detect import detect
    from helpers import single_module_project

    project = single_module_project(tmp_path / "service")
    guess = detect(MANIFEST, project)
    assert guess.tool == "pip-tools"
    assert guess.values["APP"] == "service:app"
    assert guess.values["HEALTH_PATH"] == "/healthz"
    assert guess.values["LOCK"] == "requirements.txt"
    assert guess.values["LOCK_SOURCE"] == "requirements.in"
    assert guess.values["SOURCE_ROOT"] == "."


def test_adopt_reads_the_python_version_and_every_flag_overrides_its_guess(
    tmp_path: Path,
) -> None:
    from buildlab.adopt.detect import detect
    from buildlab.course.scenarios import shaped_project
    from helpers import single_module_project

    project = single_module_project(tmp_path / "service")
    (project / ".python-version").write_text("3.12.7\n")
    guess = detect(MANIFEST, project)
    assert guess.values["PYTHON_VERSION"] == "3.12", guess.how
    (project / "uv.lock").write_text("version = 1\n")  # a second tool's lock: --tool decides
    guess = detect(
        MANIFEST,
        project,
        ProjectOptions(
            tool="pip-tools",
            python="3.11",
            app="service.wsgi:application",
            server="gunicorn --workers 3",
            port=9000,
            health="/ready",
        ),
    )
    assert guess.tool == "pip-tools"
    assert {
        key: guess.values[key] for key in ("PYTHON_VERSION", "APP", "SERVER", "PORT", "HEALTH_PATH")
    } == {
        "PYTHON_VERSION": "3.11",
        "APP": "service.wsgi:application",
        "SERVER": "gunicorn --workers 3",
        "PORT": "9000",
        "HEALTH_PATH": "/ready",
    }

    shape = MANIFEST.shapes["pipenv-src-layout"]
    with shaped_project(MANIFEST, shape, MANIFEST.lesson("07").directory / "pipenv") as pipenv:
        pipfile = pipenv / "Pipfile"
        pipfile.write_text(
            re.sub(r'python_version = "[^"]+"', 'python_version = "3.12"', pipfile.read_text())
        )
        assert detect(MANIFEST, pipenv).values["PYTHON_VERSION"] == "3.12"


def _adopt_fails(tmp_path: Path, project: Path, *flags: str) -> str:
    """Run `buildlab adopt` where it must refuse: one line, a non-zero exit, nothing written."""
    from helpers import run_cli

    before = sorted(p.name for p in project.iterdir()) if project.is_dir() else []
    result = run_cli("adopt", str(project), "--no-build", *flags)
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("buildlab: "), result.stderr
    after = sorted(p.name for p in project.iterdir()) if project.is_dir() else []
    assert after == before, "adopt wrote files although it refused"
    return lines[0]


def test_adopt_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    from helpers import single_module_project

    assert "is not a project folder" in _adopt_fails(tmp_path, tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "app.py").write_text("app = object()\n")
    assert "no lock file" in _adopt_fails(tmp_path, empty)

    project = single_module_project(tmp_path / "service")
    assert "already has Dockerfile" in _adopt_fails(tmp_path, project)
    (project / "Dockerfile").unlink()
    (project / "uv.lock").write_text("version = 1\n")
    assert "say which with --tool" in _adopt_fails(tmp_path, project)
    (project / "uv.lock").unlink()
    (project / "service.py").rename(project / "service.txt")
    assert "pass --app module:object" in _adopt_fails(tmp_path, project)


def test_adopt_refuses_a_workspace_member_it_cannot_find_in_one_line(tmp_path: Path) -> None:
    from buildlab.adopt.detect import code_file, detect
    from buildlab.course.scenarios import shaped_project
    from helpers import single_module_project

    shape = MANIFEST.shapes["uv-workspace"]
    with shaped_project(MANIFEST, shape, MANIFEST.lesson("07").directory / "uv") as project:
        (project / "Dockerfile").unlink()
        (project / ".dockerignore").unlink()
        members = "calendar-words, dates-service, notes-service"
        line = _adopt_fails(tmp_path, project)
        assert f"a uv workspace (members: {members}): pass --package NAME" in line, line
        guess = detect(MANIFEST, project, ProjectOptions(package="dates_service"))  # PEP 503
        assert code_file(project, guess) == project / "services" / "dates" / "wsgi.py"
        line = _adopt_fails(tmp_path, project, "--package", "billing")
        assert f"--package billing: no member of this workspace has that name ({members})" in line
    other = single_module_project(tmp_path / "service")
    (other / "Dockerfile").unlink()
    line = _adopt_fails(tmp_path, other, "--package", "service")
    assert "--package is for a member of a uv workspace, and this is a pip-tools project" in line


def test_every_shapes_code_changes_name_files_of_the_shape() -> None:
    for shape in MANIFEST.shapes.values():
        for what, path in shape.code_changes:
            assert (shape.directory / path).is_file(), f"{shape.name}: {what}: no {path}"


def test_adopt_writes_only_the_top_block(tmp_path: Path) -> None:
    from buildlab.course import topblock
    from helpers import run_cli, single_module_project

    project = single_module_project(tmp_path / "service")
    (project / "Dockerfile").unlink()
    result = run_cli("adopt", str(project), "--no-build", "--port", "8080")
    assert result.returncode == 0, result.stderr
    written = (project / "Dockerfile").read_text()
    lesson = (MANIFEST.lesson("07").directory / "pip-tools" / "Dockerfile").read_text()
    assert topblock.outside(written).splitlines()[1:] == topblock.outside(lesson).splitlines()[1:]
    assert topblock.values(written)["PORT"] == "8080"
    assert (project / ".dockerignore").read_text() == (
        MANIFEST.lesson("07").directory / "pip-tools" / ".dockerignore"
    ).read_text()


def test_every_pinned_image_has_the_official_images_package_list() -> None:
    """The stand-ins install what the official images have: a committed list per pinned tag."""
    from buildlab.engine.stand_ins import official_packages, official_packages_file

    for tag in load_pins().images.values():
        header = official_packages_file(tag).read_text().splitlines()[0]
        assert f"official image {tag}" in header, header
        names = official_packages(tag)
        assert names, tag
        assert list(names) == sorted(set(names)), f"{tag}: not sorted and unique"
        bad = [name for name in names if not re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", name)]
        assert not bad, f"{tag}: not Debian package names: {bad}"


def test_a_build_lost_to_the_engines_unpack_race_runs_once_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from buildlab.engine import builds
    from buildlab.support.errors import BuildFailed

    calls: list[str] = []

    def lost_then_built(context: Path, tag: str, *_: object) -> builds.BuildResult:
        calls.append(tag)
        if len(calls) == 1:
            raise BuildFailed("docker build failed", detail=f"{builds.ENGINE_UNPACK_RACE} x")
        return builds.BuildResult(tag=tag, seconds=1.0, log="", steps=[])

    monkeypatch.setattr(builds, "_build_once", lost_then_built)
    assert builds.build(Path("."), "t").tag == "t"
    assert len(calls) == 2
    calls.clear()
    with pytest.raises(BuildFailed):  # a timed build records it instead
        builds.build(Path("."), "t", retry_unpack_race=False)
    assert len(calls) == 1

    def failed(context: Path, tag: str, *_: object) -> builds.BuildResult:
        calls.append(tag)
        raise BuildFailed("docker build failed", detail="ERROR: no such package: boom")

    calls.clear()
    monkeypatch.setattr(builds, "_build_once", failed)
    with pytest.raises(BuildFailed):  # the project's own failure is never retried
        builds.build(Path("."), "t")
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        # A renamed key: the loader must not ignore it.
        (
            lambda text: text.replace('measure_apps = ["fastapi"', 'measure_app = ["fastapi"', 1),
            "[[lessons]] 07-production has unknown key 'measure_app' (it takes: ",
        ),
        (
            lambda text: text.replace('says = "The image builds, starts', 'say = "The image', 1),
            "[claims.serves-http] has unknown key 'say'",
        ),
        (
            lambda text: text.replace('health_path = "/health"\n', "", 1),
            "[apps.flask] lacks 'health_path'",
        ),
        (
            lambda text: text.replace('locks = "hashed"', 'locks = "hashes"', 1),
            "[[lessons]] 03-locked-and-hashed locks = 'hashes'",
        ),
        (lambda text: "lesson = 1\n" + text, "the top level has unknown key 'lesson'"),
        (
            lambda text: text.replace(
                '"code-change-reinstalls-dependencies"]', '"no-such-claim"]', 1
            ),
            "[[lessons]] 01-naive claims names unknown no-such-claim",
        ),
        (
            lambda text: text.replace('builds_on = "08-ci', 'builds_on = "8-ci', 1),
            "[[lessons]] 10-private-packages builds_on names unknown 8-ci",
        ),
        (
            lambda text: text.replace("task = [", 'task = "one step"\nold_task = [', 1),
            "unknown key",
        ),
        (lambda text: text.replace("[[targets]]", "[[targets]]\nmetric = 1", 1), "unknown key"),
        (
            lambda text: text.replace(
                'tool = "uv"\napp = "fastapi"', 'tool = "vu"\napp = "fastapi"', 1
            ),
            "[shapes.uv-src-layout] tool names unknown vu",
        ),
        (
            lambda text: text.replace(
                'containerize/"\ntool = "pip-tools"', 'containerize/"\ntool = "pip"', 1
            ),
            "[peers.docker-init] tool names unknown pip",
        ),
        (
            lambda text: text.replace('tools = ["pip-tools",', 'tools = ["npm", "pip-tools",', 1),
            "tools (each needs its class in scripts/buildlab/course/tools.py) names unknown npm",
        ),
    ],
    ids=[
        "renamed-lesson-key",
        "renamed-claim-key",
        "missing-app-key",
        "bad-lock-style",
        "top",
        "target",
        "unknown-claim",
        "unknown-builds-on",
        "task-not-a-list",
        "shape-tool",
        "peer-tool",
        "tool-with-no-class",
    ],
)
def test_manifest_refuses_unknown_and_missing_keys(edit, expected) -> None:  # type: ignore[no-untyped-def]
    from buildlab.course.manifest import ManifestError, parse_manifest
    from buildlab.support.paths import MANIFEST_FILE

    text = MANIFEST_FILE.read_text()
    assert edit(text) != text, "the edit found nothing to change"
    with pytest.raises(ManifestError) as failure:
        parse_manifest(edit(text))
    assert expected in failure.value.message
    assert "\n" not in failure.value.message


def _markdown_and_dockerfiles() -> dict[str, str]:
    from buildlab.support.paths import ROOT

    paths = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *LESSONS_DIR.rglob("README.md")]
    paths += [v.directory / "Dockerfile" for v in VARIANTS]
    return {str(p.relative_to(ROOT)): p.read_text() for p in paths}


def test_no_instruction_a_learner_would_follow_is_wrong() -> None:
    """What the pages tell a reader to type must do what they say: `command -v` in sh checks
    its first name only; a published port binds 127.0.0.1, not every interface; a build secret
    is a file with the one index's entry, never the user's whole ~/.netrc."""
    wrong = []
    for name, text in _markdown_and_dockerfiles().items():
        for line in text.splitlines():
            if re.search(r"command -v [\w\"$.-]+ [\w\"$.-]+", line):
                wrong.append(f"{name}: `command -v` with several names: {line.strip()}")
            if re.search(r"docker run\b.*\s(-p|--publish)[ =](?!127\.0\.0\.1:)", line):
                wrong.append(f"{name}: a port published on every interface: {line.strip()}")
            if re.search(r"src=(\$HOME|~)/\.netrc", line):
                wrong.append(f"{name}: the whole ~/.netrc as a build secret: {line.strip()}")
    assert wrong == []


def test_an_unknown_tool_is_one_clear_error_wherever_it_is_asked() -> None:
    """No caller falls back to another tool's rules: asking for a tool there is no class for
    is a UsageError naming the valid tools, and every tool lessons.toml lists has a class."""
    from buildlab.course.tools import tool
    from buildlab.support.errors import UsageError

    assert set(MANIFEST.tools) <= set(TOOLS)
    expected = "unknown tool 'npm'; valid tools: pip-tools, pipenv, poetry, uv"
    with pytest.raises(UsageError) as failure:
        TOOLS["npm"]
    assert failure.value.message == expected
    with pytest.raises(UsageError) as failure:
        tool("npm")
    assert failure.value.message == expected


def test_an_older_results_file_is_read_with_todays_names() -> None:
    """A results file of schema 2 or 3 (a user's old `make demo`) is read as the current one:
    `lesson` is `subject`, `code_bytes` the code's compressed bytes, a base image's real or
    stand-in its `origin`; nothing else changes."""
    from buildlab.bench.store import SCHEMA_VERSION, upgrade

    base = {"role": "runtime", "name": "python:3.13-slim-trixie", "size_bytes": 1, "kind": "real"}
    build = {"kind": "lesson", "lesson": "07-production", "code_bytes": 5, "base_images": [base]}
    upgraded = upgrade({"schema_version": 2, "builds": [build]})
    assert upgraded["schema_version"] == SCHEMA_VERSION == 4
    assert upgraded["builds"] == [
        {
            "kind": "lesson",
            "subject": "07-production",
            "code_compressed_bytes": 5,
            "base_images": [{**{k: v for k, v in base.items() if k != "kind"}, "origin": "real"}],
        }
    ]
    assert upgrade({"schema_version": 3, "builds": []}) == {"schema_version": 4, "builds": []}


def test_the_size_a_build_prints_first_is_the_uncompressed_one() -> None:
    """`buildlab build`/`run` print the size the README's tables show (uncompressed), and the
    compressed one only named as such (they printed 259 MB for an image of 725)."""
    from buildlab.engine.images import describe_size

    assert describe_size(725_000_000, 259_000_000) == "725 MB (259 MB compressed)"


def test_the_engine_minimum_is_what_the_lessons_need() -> None:
    """Lesson 07's HEALTHCHECK --start-interval needs Engine 25: the engine check and the
    README ask for at least that."""
    from buildlab.engine.daemon import MIN_ENGINE_MAJOR
    from buildlab.support.paths import ROOT

    uses = [
        v.name for v in VARIANTS if "--start-interval" in (v.directory / "Dockerfile").read_text()
    ]
    if uses:
        assert MIN_ENGINE_MAJOR >= 25, f"{uses[0]} uses --start-interval (Engine 25)"
    assert f"Docker Engine {MIN_ENGINE_MAJOR} or newer" in (ROOT / "README.md").read_text()


def test_a_selection_of_no_test_fails_the_fast_tier() -> None:
    """pytest exits 5 when nothing was collected: a typo in -k must not pass as green."""
    from buildlab.support.paths import ROOT

    result = subprocess.run(
        [str(ROOT / "scripts" / "check"), "-k", "no_test_is_named_like_this", "-q"],
        capture_output=True,
        text=True,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "BUILDLAB_TIER_MAY_BE_EMPTY"},
    )
    assert result.returncode == 5, result.stdout + result.stderr
    assert "check: no fast test matched the selection" in result.stderr


def test_every_apps_tests_run() -> None:
    """Each sample app's own unit tests are collected by the fast tier."""
    config = tomllib.loads((LESSONS_DIR.parent / "pyproject.toml").read_text())
    options = config["tool"]["pytest"]["ini_options"]
    for app in MANIFEST.apps.values():
        folder = str(app.source_dir.relative_to(LESSONS_DIR.parent))
        assert f"{folder}/tests" in options["testpaths"], app.name
        assert folder in options["pythonpath"], app.name


def _oci_archive(path: Path, mode: int, annotation: str) -> Path:
    """A one-layer OCI image archive: /app/run.sh with `mode`, a manifest annotation."""
    import hashlib
    import io
    import tarfile

    def blob(data: bytes) -> tuple[str, bytes]:
        return "sha256:" + hashlib.sha256(data).hexdigest(), data

    layer_buffer = io.BytesIO()
    with tarfile.open(fileobj=layer_buffer, mode="w") as layer:
        content = b"#!/bin/sh\necho hello\n"
        info = tarfile.TarInfo("app/run.sh")
        info.size, info.mode, info.mtime = len(content), mode, 1_700_000_000
        layer.addfile(info, io.BytesIO(content))
    layer_digest, layer_data = blob(layer_buffer.getvalue())
    config_digest, config_data = blob(json.dumps({"architecture": "amd64"}).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"digest": config_digest, "size": len(config_data)},
        "layers": [{"digest": layer_digest, "size": len(layer_data)}],
        "annotations": {"note": annotation},
    }
    manifest_digest, manifest_data = blob(json.dumps(manifest).encode())
    index = {"manifests": [{"digest": manifest_digest, "size": len(manifest_data)}]}
    with tarfile.open(path, "w") as archive:
        for name, data in (
            ("index.json", json.dumps(index).encode()),
            *(
                (f"blobs/sha256/{d[7:]}", b)
                for d, b in (
                    (layer_digest, layer_data),
                    (config_digest, config_data),
                    (manifest_digest, manifest_data),
                )
            ),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_image_comparison_sees_modes_and_annotations(tmp_path: Path) -> None:
    """production-same-as-previous-lesson explains a digest difference by the files' content,
    mode, owner and dates, the config and the annotations: two images that differ only in a
    file's mode, or only in an annotation, are told apart."""
    from buildlab.engine.oci import differences, manifest_digest

    base = _oci_archive(tmp_path / "a.tar", 0o644, "one")
    by_mode = _oci_archive(tmp_path / "b.tar", 0o755, "one")
    by_note = _oci_archive(tmp_path / "c.tar", 0o644, "two")
    assert manifest_digest(base) != manifest_digest(by_mode)
    assert differences(base, by_mode) == ["layer 0: /app/run.sh: mode"]
    assert differences(base, by_note) == [
        "manifest annotations: {'note': 'one'} != {'note': 'two'}"
    ]
    assert differences(base, base) == []


def test_adopt_leaves_out_the_gunicorn_flags_the_locked_release_lacks(tmp_path: Path) -> None:
    """lesson 07 passes --no-control-socket (gunicorn 25.1+): a project that locks gunicorn
    23.0 gets the same command without it (23.0 exits with `unrecognized arguments`)."""
    from buildlab.adopt.detect import detect
    from helpers import single_module_project

    project = single_module_project(tmp_path / "service")
    lock = project / "requirements.txt"
    assert "--no-control-socket" in detect(MANIFEST, project).values["SERVER"]
    lock.write_text(re.sub(r"^gunicorn==\S+", "gunicorn==23.0.0", lock.read_text(), flags=re.M))
    guess = detect(MANIFEST, project)
    assert "--no-control-socket" not in guess.values["SERVER"]
    assert guess.values["SERVER"].startswith("gunicorn --graceful-timeout 8")
    assert any(
        "gunicorn 23.0.0 in requirements.txt: without --no-control-socket" in line
        for line in guess.how
    )


@pytest.mark.parametrize(
    "variant", [v for v in VARIANTS if v.lesson.production], ids=lambda v: v.name
)
def test_top_block_fences_are_lesson_07s(variant: Variant) -> None:
    """The block's opening and closing lines are the same in every production Dockerfile (a
    reader searches for them; a re-wrapped fence is noise in every diff)."""
    fences = [
        line
        for line in (MANIFEST.lesson("07").directory / variant.tool / "Dockerfile")
        .read_text()
        .splitlines()
        if line.startswith("# ====")
    ]
    mine = [
        line
        for line in (variant.directory / "Dockerfile").read_text().splitlines()
        if line.startswith("# ====")
    ]
    assert mine == fences


def test_each_variants_docker_tests_share_one_worker_group() -> None:
    """The Docker tier's two workers split it by `conftest._group`, read from test ids (xdist's
    own groups are lost under pytest 9.2): every test of a variant is in that variant's group,
    the browser tests in one."""
    from conftest import _group

    from buildlab.support.paths import ROOT

    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "docker or browser", "--collect-only", "-q"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    ids = [line for line in listed.stdout.splitlines() if "::" in line]
    assert ids, listed.stdout + listed.stderr
    wrong = []
    for nodeid in ids:
        param = nodeid.partition("[")[2].rstrip("]").split(":", 1)[0]
        wanted = param if param in {v.name for v in VARIANTS} else None
        if "test_site_browser" in nodeid:
            wanted = "test_site_browser"
        if "test_lock_is_fresh_by_its_tools_own_check_in_the_image" in nodeid:
            wanted = "in-image-locks"
        if wanted is not None and _group(nodeid) != wanted:
            wrong.append(f"{nodeid}: group {_group(nodeid)}, not {wanted}")
    variant_tests = [n for n in ids if "test_claim[" in n]
    assert variant_tests, ids
    assert [n for n in variant_tests if _group(n) is None] == []
    assert wrong == []


@pytest.mark.parametrize(
    ("log", "library", "package"),
    [
        # The dynamic loader (psycopg2 built from source, in the slim image: seen in the
        # Docker tier's control), cffi (weasyprint), ctypes finders (python-magic, pyzbar),
        # psycopg 3's pure-Python wrapper.
        (
            "ImportError: libpq.so.5: cannot open shared object file: No such file or directory",
            "libpq.so.5",
            "libpq5",
        ),
        (
            "OSError: cannot load library 'libgobject-2.0-0': libgobject-2.0-0: cannot open "
            "shared object file: No such file or directory.",
            "libgobject-2.0-0",
            "libglib2.0-0t64",
        ),
        (
            "ImportError: failed to find libmagic.  Check your installation",
            "libmagic",
            "libmagic1t64",
        ),
        ("ImportError: Unable to find zbar shared library", "zbar", "libzbar0t64"),
        (
            "ImportError: libGL.so.1: cannot open shared object file: No such file or directory",
            "libGL.so.1",
            "libgl1",
        ),
        (
            "- couldn't import psycopg 'python' implementation: libpq library not found",
            "libpq",
            "libpq5",
        ),
        (
            "ImportError: libharfbuzz-subset.so.0: cannot open shared object file",
            "libharfbuzz-subset.so.0",
            "libharfbuzz-subset0",
        ),
        ("ImportError: libfoo-9.so.3: cannot open shared object file", "libfoo-9.so.3", None),
    ],
)
def test_adopt_names_the_debian_package_of_a_missing_library(
    log: str, library: str, package: str | None
) -> None:
    from buildlab.adopt import system

    assert system.missing_library(f"[worker] Traceback ...\n{log}\n") == (library, package)
    assert system.missing_library("ModuleNotFoundError: No module named 'flask'") is None


def test_adopt_guesses_debian_packages_from_the_lock() -> None:
    from buildlab.adopt import system

    found = system.needs({"flask", "psycopg2", "mysqlclient", "gunicorn"})
    assert system.packages(found, build=False) == (
        "libmariadb3 libpq5",
        "mysqlclient loads libmariadb.so.3, psycopg2 loads libpq.so.5",
    )
    assert system.packages(found, build=True)[0] == "default-libmysqlclient-dev pkg-config"
    # Wheels that carry their library need nothing; psycopg 3 alone loads the system's libpq.
    assert system.needs({"psycopg", "psycopg-binary", "psycopg2-binary"}) == {}
    assert system.packages(system.needs({"psycopg"}), build=False)[0] == "libpq5"


def test_trial_refuses_a_bad_list_in_one_line(tmp_path: Path) -> None:
    listing = tmp_path / "projects.txt"
    for text, says in (
        (None, "no such list of projects"),
        ("# nothing\n\n", "lists no project"),
        ("https://example.org/a.git --no-such-flag\n", "projects.txt:1: not an adopt flag"),
        ("https://example.org/a.git --port eighty\n", "projects.txt:1:"),
    ):
        if text is not None:
            listing.write_text(text)
        result = run_cli("trial", str(listing))
        assert result.returncode != 0
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert says in lines[0], result.stderr


def test_adopt_offers_relock_for_a_lock_without_hashes(tmp_path: Path) -> None:
    """A pip-compile lock without hashes (lesson 02's, made by pip-compile) is one line
    offering --relock; --relock runs the command the header records, with --generate-hashes
    added once (the Docker tier runs it: test_adopt_docker)."""
    import shutil

    from buildlab.adopt.relock import recorded_command, with_hashes
    from helpers import single_module_project

    project = single_module_project(tmp_path / "service")
    (project / "Dockerfile").unlink()
    pinned = MANIFEST.lesson("02").directory / "pip-tools" / "requirements.txt"
    shutil.copy2(pinned, project / "requirements.txt")
    refused = _adopt_fails(tmp_path, project)
    assert "requirements.txt has no hashes" in refused, refused
    assert "add --relock" in refused, refused
    header = (
        "#\n# by the following command:\n#\n#    pip-compile --strip-extras requirements.in\n#\n"
    )
    assert recorded_command(header) == "pip-compile --strip-extras requirements.in"
    assert recorded_command(pinned.read_text()) is None  # ours says `buildlab relock`
    assert with_hashes("pip-compile x.in") == "pip-compile x.in --generate-hashes"
    assert with_hashes("pip-compile --generate-hashes x.in") == "pip-compile --generate-hashes x.in"


def test_every_negative_controls_break_applies_to_its_lesson(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each break of lessons.toml's controls edits its lesson's folder (a break whose text a
    lesson no longer has fails here in seconds, not in the Docker tier)."""
    import shutil

    from buildlab.claims.breaks import BREAKS
    from buildlab.engine import private_index

    # The fast tier runs before `doctor`: no private index, so no real password to copy in.
    monkeypatch.setattr(private_index, "token", lambda: "not-a-real-password")

    def contents(folder: Path) -> dict[str, bytes]:
        return {
            str(f.relative_to(folder)): f.read_bytes() for f in folder.rglob("*") if f.is_file()
        }

    for claim in MANIFEST.claims.values():
        control = claim.control
        edit = None if control is None or control.breaks is None else BREAKS[control.breaks].edit
        if control is None or edit is None:
            continue
        folder = tmp_path / claim.id
        shutil.copytree(MANIFEST.lesson(control.lesson).directory / control.tool, folder)
        before = contents(folder)
        edit(folder / "Dockerfile")
        assert contents(folder) != before, f"{control.breaks} changed nothing ({claim.id})"


@pytest.mark.parametrize(
    ("pyproject", "expected"),
    [
        ('[project]\nrequires-python = ">=3.10"\n', None),  # admits the lesson's 3.13
        ('[project]\nrequires-python = ">=3.10,<3.13"\n', ("3.12", "requires-python >=3.10,<3.13")),
        ('[project]\nrequires-python = "==3.12.*"\n', ("3.12", "requires-python ==3.12.*")),
        ('[project]\nrequires-python = ">=3.14"\n', ("3.14", "requires-python >=3.14")),
        ('[tool.poetry.dependencies]\npython = "^3.10"\n', None),
        (
            '[tool.poetry.dependencies]\npython = "~3.10"\n',
            ("3.10", "Poetry's python ~3.10"),
        ),
        ('[tool.poetry.dependencies]\npython = "3.11.*"\n', ("3.11", "Poetry's python 3.11.*")),
        (
            '[tool.poetry.dependencies]\npython = ">=3.9,<3.12"\n',
            ("3.11", "Poetry's python >=3.9,<3.12"),
        ),
        ('[project]\nrequires-python = ">=3.13.1"\n', None),  # 3.13's later releases
        ('[project]\nrequires-python = "~=3.11.4"\n', ("3.11", "requires-python ~=3.11.4")),
        (
            '[tool.poetry.dependencies]\npython = ">=3.10 <3.12"\n',
            ("3.11", "Poetry's python >=3.10 <3.12"),
        ),
        ('[tool.poetry.dependencies]\npython = "~3.11 || ~3.13"\n', None),
        ('[tool.poetry.dependencies]\npython = "~3"\n', None),
        ('[project]\nrequires-python = "not a range"\n', None),
        ('[project]\nname = "x"\n', None),
    ],
)
def test_adopt_reads_the_python_a_projects_range_asks_for(
    pyproject: str, expected: tuple[str, str] | None, tmp_path: Path
) -> None:
    """A pyproject.toml's requires-python (or Poetry's python) that leaves out the lesson's
    Python picks the minor it admits closest to that one (a project pinned below 3.13 got
    3.13, and its tool refused: "not supported by the project (3.10.*)"); one that admits it
    changes nothing."""
    (tmp_path / "pyproject.toml").write_text(pyproject)
    for name in ("uv", "poetry", "pip-tools"):
        assert TOOLS[name].python_version(tmp_path, "3.13") == expected, name


def test_every_python_a_shape_asks_for_has_a_source_in_the_test_engine() -> None:
    """doctor builds the base images of the minors the project shapes name (CI builds what
    its tests use), each from the Debian suite pins.toml names; the tags keep their release."""
    from buildlab.engine.stand_ins import minor_tag, own_minor

    pins = load_pins()
    minors = MANIFEST.shape_python_minors()
    assert minors, "no shape on another Python: nothing proves the other minors' stand-ins"
    for minor in minors:
        assert minor == own_minor(pins) or minor in pins.python_minors, minor
    assert own_minor(pins) == "3.13"
    assert minor_tag("python:3.13-slim-trixie", "3.14") == "python:3.14-slim-trixie"
    assert minor_tag("python:3.13-trixie", "3.11") == "python:3.11-trixie"


def test_a_background_server_is_waited_for_and_one_that_dies_is_one_error(tmp_path: Path) -> None:
    """engine/servers.py, which starts dockerd, the registry, the pypiservers and compose
    watch: a real HTTP server on a free loopback port is waited for until it answers, and a
    command that exits at once is one EngineError with its log's last lines."""
    import socket
    import urllib.request

    from buildlab.engine.servers import start
    from buildlab.support.errors import EngineError
    from buildlab.support.proc import stop_process

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def answers() -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
        except OSError:
            return False
        return True

    args = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    process = start(args, what="a test server", log=tmp_path / "ok.log", answers=answers)
    try:
        assert answers()
    finally:
        stop_process(process.pid)
    died = [sys.executable, "-c", "import sys; print('no config here'); sys.exit(3)"]
    with pytest.raises(EngineError) as failure:
        start(died, what="a broken server", log=tmp_path / "died.log", answers=lambda: False)
    assert failure.value.message.startswith("a broken server did not answer within 30 s")
    assert "no config here" in failure.value.detail


def test_adopt_picks_the_deploy_lock_over_a_dev_lock_that_includes_it(tmp_path: Path) -> None:
    """requirements-dev.txt usually includes requirements.txt, so both lock the server: the
    one whose name says development or tests is not the image's (a real project stopped at
    'several pip-compile locks ... say which one')."""
    import shutil

    from buildlab.adopt.detect import detect
    from buildlab.adopt.options import ProjectOptions
    from helpers import single_module_project

    project = single_module_project(tmp_path / "service")
    lesson = MANIFEST.lesson("07-production").directory / "pip-tools"
    for name in ("pyproject.toml", "requirements.txt"):
        shutil.copy2(lesson / name, project / name)
    shutil.copy2(lesson / "requirements.txt", project / "requirements-dev.txt")
    guess = detect(MANIFEST, project, ProjectOptions(tool="pip-tools"))
    assert guess.values["LOCK"] == "requirements.txt"


def test_trial_names_a_mirror_by_its_repository() -> None:
    from buildlab.adopt.trial import Entry

    assert Entry("/work/.mirror/owner+name/repo", "", ()).name == "owner+name"
    assert Entry("/work/.mirror/owner+name/repo", "src", ()).name == "owner+name/src"
    assert Entry("https://example.org/group/app.git", "", ()).name == "app"


def test_adopt_reads_a_src_folder_that_is_itself_a_package_as_code_at_the_root(
    tmp_path: Path,
) -> None:
    """`src/__init__.py`: the project imports `src.app` from its root, where its entry module
    is (a real one stopped at 'cannot tell the app object': only src/ was searched)."""
    from buildlab.adopt.detect import detect
    from buildlab.adopt.options import ProjectOptions
    from helpers import single_module_project

    project = single_module_project(tmp_path / "service")
    (project / "src" / "app").mkdir(parents=True)
    (project / "src" / "__init__.py").write_text("")
    (project / "src" / "app" / "__init__.py").write_text("def bootstrap(): ...\n")
    guess = detect(MANIFEST, project, ProjectOptions())
    assert guess.values["SOURCE_ROOT"] == "."
    assert guess.values["APP"] == "service:app"


def test_adopt_picks_a_python_the_locks_wheels_fit(tmp_path: Path) -> None:
    """A range that admits 3.13 (Poetry's ^3.10) with a lock whose psycopg2-binary has wheels
    up to 3.12 only: 3.13 would build it from source and fail, so adopt takes 3.12, the
    closest minor every locked package has a Linux wheel for (a real project did not build)."""
    from buildlab.course.pythons import minor_of_lock, wheel_minors

    lock = "\n".join(
        [
            '{file = "psycopg2_binary-2.9.9-cp311-cp311-manylinux_2_17_x86_64.whl"}',
            '{file = "psycopg2_binary-2.9.9-cp312-cp312-manylinux_2_17_x86_64.whl"}',
            '{file = "psycopg2_binary-2.9.9-cp313-cp313-macosx_11_0_arm64.whl"}',
            '{file = "flask-3.1.0-py3-none-any.whl"}',
            '{file = "pydantic_core-2.27.0-cp38-abi3-manylinux_2_17_x86_64.whl"}',
        ]
    )
    assert wheel_minors(lock) == {"3.11", "3.12"}
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.poetry.dependencies]\npython = "^3.10"\n')
    assert minor_of_lock(lock, pyproject, "3.13") == (
        "3.12",
        "the lock's wheels: some package has none for 3.13",
    )
    pyproject.write_text('[tool.poetry.dependencies]\npython = ">=3.10,<3.12"\n')
    assert minor_of_lock(lock, pyproject, "3.13") == (
        "3.11",
        "the lock's wheels: some package has none for 3.13",
    )
    assert minor_of_lock(lock.replace("cp312", "cp313"), pyproject, "3.13") is None
    assert wheel_minors("flask==3.1.0 --hash=sha256:00") is None  # no wheel names
    for variant in MANIFEST.all_variants():  # the lessons' own locks fit their Python
        lock_file = variant.directory / TOOLS[variant.tool].lock_file
        if lock_file.is_file():
            assert minor_of_lock(lock_file.read_text(), variant.directory / "x", "3.13") is None


def test_adopt_relock_leaves_a_dev_lock_alone_when_a_deploy_lock_is_there(tmp_path: Path) -> None:
    """--relock compiles the locks an image installs: a real project's requirements-dev.txt
    recorded no pip-compile command, and --relock stopped on it, though the image never
    installs it."""
    import shutil

    from buildlab.adopt.relock import unhashed_locks

    pinned = MANIFEST.lesson("02").directory / "pip-tools" / "requirements.txt"
    shutil.copy2(pinned, tmp_path / "requirements.txt")
    shutil.copy2(pinned, tmp_path / "requirements-dev.txt")
    assert unhashed_locks(tmp_path) == [tmp_path / "requirements.txt"]
    (tmp_path / "requirements.txt").unlink()
    assert unhashed_locks(tmp_path) == [tmp_path / "requirements-dev.txt"]


@pytest.mark.parametrize("tool", MANIFEST.tools)
def test_adopt_writes_lesson_11_for_a_django_project(tool: str, tmp_path: Path) -> None:
    """A Django project (its wsgi.py names the settings) gets lesson 11's Dockerfile, with the
    settings module, STATIC_ROOT's folder and the WSGI application read from its files: on
    lesson 11's own folder, the very Dockerfile and .dockerignore the Docker tier proves."""
    from buildlab.adopt.detect import detect
    from buildlab.adopt.prove import write
    from buildlab.course import topblock

    lesson = MANIFEST.lesson("11")
    project = tmp_path / "shelf"
    shutil.copytree(lesson.directory / tool, project)
    (project / "Dockerfile").unlink()
    (project / ".dockerignore").unlink()
    guess = detect(MANIFEST, project)
    write(MANIFEST, project, guess, force=False)
    built = (lesson.directory / tool / "Dockerfile").read_text()
    assert guess.lesson == lesson.id
    block = topblock.values(built)
    for name in ("APP", "DJANGO_SETTINGS_MODULE", "STATIC_ROOT", "HEALTH_PATH"):
        assert guess.values[name] == block[name], guess.how
    assert any(line.startswith("migrations: never at start") for line in guess.how)
    assert (project / "Dockerfile").read_text().splitlines()[1:] == built.splitlines()[1:]
    assert (project / ".dockerignore").read_text() == (
        lesson.directory / tool / ".dockerignore"
    ).read_text()


def test_adopt_refuses_a_django_project_without_static_root_in_one_line(tmp_path: Path) -> None:
    from helpers import single_module_project

    project = tmp_path / "shelf"
    shutil.copytree(MANIFEST.lesson("11").directory / "uv", project)
    (project / "Dockerfile").unlink()
    (project / ".dockerignore").unlink()
    settings = project / "shelf" / "settings.py"
    settings.write_text(re.sub(r"(?m)^STATIC_ROOT = .*$", "", settings.read_text()))
    line = _adopt_fails(tmp_path, project)
    assert "(shelf.settings) have no STATIC_ROOT" in line, line
    assert "--static-root FOLDER" in line, line
    other = single_module_project(tmp_path / "service")
    (other / "Dockerfile").unlink()
    line = _adopt_fails(tmp_path, other, "--static-root", "static")
    assert "--static-root is for a Django project" in line, line
    line = _adopt_fails(tmp_path, other, "--collect-env", "SECRET_KEY=placeholder")
    assert "--collect-env is for a Django project" in line, line
    line = _adopt_fails(tmp_path, other, "--collect-env", "SECRET_KEY=two words")
    assert "give NAME=VALUE (no space, $, quote or backslash in the value)" in line, line


def test_adopt_reads_the_settings_production_runs(tmp_path: Path) -> None:
    """The server's entry point names the settings production runs (manage.py often the
    developer's); a settings module that star-imports another is read with it."""
    from buildlab.adopt.detect import detect

    project = tmp_path / "shelf"
    shutil.copytree(MANIFEST.lesson("11").directory / "uv", project)
    (project / "Dockerfile").unlink()
    (project / "manage.py").write_text(
        'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "shelf.developer")\n'
    )
    (project / "shelf" / "production.py").write_text("from .settings import *\nDEBUG = False\n")
    wsgi = project / "shelf" / "wsgi.py"
    wsgi.write_text(wsgi.read_text().replace('"shelf.settings"', '"shelf.production"'))
    guess = detect(MANIFEST, project)
    assert guess.values["DJANGO_SETTINGS_MODULE"] == "shelf.production", guess.how
    assert guess.values["STATIC_ROOT"] == "staticfiles", guess.how
    assert guess.values["APP"] == "shelf.wsgi:application", guess.how
    line = _adopt_fails(tmp_path, project, "--static-root", "/srv/static")
    assert "--static-root is '/srv/static': the image needs a folder inside the project" in line


def test_adopt_gives_collectstatic_the_placeholders_a_django_project_needs(tmp_path: Path) -> None:
    """Settings that read a variable with no default at import (django-environ's
    env("SECRET_KEY"), an app that reads SECRET_KEY) get it for collectstatic alone."""
    from buildlab.adopt.detect import detect
    from buildlab.course import topblock

    project = tmp_path / "shelf"
    shutil.copytree(MANIFEST.lesson("11").directory / "uv", project)
    (project / "Dockerfile").unlink()
    options = ProjectOptions(collect_env=("SECRET_KEY=placeholder", "DATABASE_URL=sqlite://"))
    guess = detect(MANIFEST, project, options)
    assert guess.values["COLLECT_ENV"] == "SECRET_KEY=placeholder DATABASE_URL=sqlite://"
    block = topblock.values(
        topblock.with_values(
            (MANIFEST.lesson("11").directory / "uv" / "Dockerfile").read_text(), guess.values
        )
    )
    assert block["COLLECT_ENV"] == "SECRET_KEY=placeholder DATABASE_URL=sqlite://"
