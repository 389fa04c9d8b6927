"""The `buildlab` command line. Every failure is one clear line and a non-zero exit."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from buildlab.adopt.options import add_adopt_arguments, add_project_arguments
from buildlab.course.manifest import load_manifest
from buildlab.support.errors import BuildlabError, UsageError
from buildlab.support.paths import ROOT, STATE_DIR
from buildlab.support.scratch import run_temporary_folder

DEFAULT_RESULTS = STATE_DIR / "results" / "results.json"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        with run_temporary_folder():
            return int(args.func(args) or 0)
    except BuildlabError as exc:
        print(f"buildlab: {exc.message}", file=sys.stderr)
        if exc.detail:
            print(exc.detail, file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # `buildlab list | head`: the reader left, nothing went wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(
            "buildlab: interrupted; containers, images and temporary folders of this run "
            "were removed",
            file=sys.stderr,
        )
        return 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"buildlab: {message} (see `buildlab --help`)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="buildlab", description=__doc__)
    sub = parser.add_subparsers(required=True, parser_class=_Parser, metavar="COMMAND")

    p = sub.add_parser("list", help="lessons, tools, apps, claims and peers from lessons.toml")
    p.set_defaults(func=_list)

    p = sub.add_parser("doctor", help="check (or --fix) the Docker engine and base images")
    p.add_argument("--fix", action="store_true", help="start or install what is missing")
    p.set_defaults(func=_doctor)

    p = sub.add_parser("build", help="build one lesson in one tool")
    p.add_argument("lesson")
    p.add_argument("tool")
    p.add_argument("--keep", action="store_true", help="keep the image (prints its tag)")
    secret = p.add_mutually_exclusive_group()
    secret.add_argument(
        "--netrc",
        type=Path,
        help="lesson 10: the build secret (default: the test engine's private index credentials)",
    )
    secret.add_argument(
        "--no-secret",
        action="store_true",
        help="lesson 10: build without the build secret (its builder stage not from the cache)",
    )
    p.set_defaults(func=_build)

    p = sub.add_parser("run", help="build, start and probe one lesson in one tool, then clean up")
    p.add_argument("lesson")
    p.add_argument("tool")
    p.add_argument(
        "--keep-running",
        action="store_true",
        help="keep serving until Ctrl-C (then remove everything)",
    )
    p.set_defaults(func=_run)

    p = sub.add_parser(
        "dev",
        help="a lesson's development loop: docker compose watch on its folder until Ctrl-C",
    )
    p.add_argument("lesson")
    p.add_argument("tool")
    p.add_argument("--port", type=int, default=8000, help="host port on 127.0.0.1 (8000)")
    p.set_defaults(func=_dev)

    p = sub.add_parser(
        "sync", help="copy the primary app into every lesson folder (--check: only compare)"
    )
    p.add_argument("--check", action="store_true")
    p.set_defaults(func=_sync)

    p = sub.add_parser("relock", help="regenerate lock files inside each lesson's base image")
    p.add_argument("--lesson", action="append", help="only this lesson (repeatable)")
    p.add_argument("--tool", action="append", help="only this tool (repeatable)")
    p.add_argument("--upgrade", action="store_true", help="ignore existing pins")
    p.set_defaults(func=_relock)

    p = sub.add_parser("check-locks", help="is every lock fresh, by its own tool's check?")
    p.add_argument(
        "--where",
        choices=["host", "image", "all"],
        default="all",
        help="host: checks that need no Docker; image: those that run in the image",
    )
    p.set_defaults(func=_check_locks)

    p = sub.add_parser("docs", help="regenerate the generated blocks in the docs, and the charts")
    p.add_argument("--check", action="store_true", help="only report stale docs and charts")
    p.set_defaults(func=_docs)

    p = sub.add_parser("site", help="build the docs site with mkdocs --strict")
    p.add_argument("--site-dir", type=Path, default=STATE_DIR / "site")
    p.set_defaults(func=_site)

    p = sub.add_parser("lint", help="hadolint every lesson Dockerfile")
    p.set_defaults(func=_lint)

    p = sub.add_parser(
        "clean",
        help="remove every container and image buildlab labelled, and empty the local registry",
    )
    p.set_defaults(func=_clean)

    p = sub.add_parser(
        "adopt",
        help="write lesson 07's Dockerfile into your project (tool, layout, app guessed), "
        "then build, run and measure it",
    )
    p.add_argument("project", type=Path, help="the project's folder (where its lock file is)")
    add_adopt_arguments(p)
    p.set_defaults(func=_adopt)

    p = sub.add_parser(
        "trial", help="adopt on others' projects, listed in a file: served or why not"
    )
    p.add_argument(
        "list", type=Path, help="one git repository per line: URL or path[#FOLDER] FLAGS"
    )
    p.set_defaults(func=_trial)

    p = sub.add_parser(
        "exercise",
        help="your turn: a lesson's exercise folder (exercises/LESSON/TOOL), starting from the "
        "previous lesson's Dockerfile, and the task",
    )
    p.add_argument("lesson")
    p.add_argument("tool")
    p.add_argument("--path", type=Path, help="make it here instead of exercises/LESSON/TOOL")
    p.add_argument("--force", action="store_true", help="start again: replace your work")
    p.set_defaults(func=_exercise)

    p = sub.add_parser(
        "check",
        help="run a lesson's claims on your Dockerfile: check LESSON TOOL [PATH], or "
        "check --lesson 07 PROJECT for a project's own",
    )
    p.add_argument("where", nargs="*", metavar="LESSON TOOL [PATH] | PROJECT")
    p.add_argument("--lesson", help="check a project's own Dockerfile against this lesson (07)")
    add_project_arguments(p)
    p.set_defaults(func=_check)

    p = sub.add_parser("progress", help="your exercises: lessons x tools, from each last check")
    p.set_defaults(func=_progress)

    p = sub.add_parser("measure", help="the build-behaviour benchmark: results JSON, table, charts")
    for flag, also in (
        ("lesson", "; peers then only when named too"),
        ("peer", "; lessons then only when named too"),
        ("tool", ""),
        ("app", ""),
    ):
        p.add_argument(f"--{flag}", action="append", help=f"only this {flag} (repeatable{also})")
    own = "each lesson with its own app only, the peers with the primary app"
    p.add_argument("--own-apps", action="store_true", help=own)
    p.add_argument("--repeat", type=int, default=3, help="runs per scenario (default 3)")
    resume = "keep what the results file holds; measure only what it lacks"
    p.add_argument("--resume", action="store_true", help=resume)
    p.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_RESULTS,
        help=f"results file to write (default {DEFAULT_RESULTS.relative_to(ROOT)}); "
        "charts go next to it",
    )
    p.set_defaults(func=_measure)
    return parser


def _list(_: argparse.Namespace) -> None:
    manifest = load_manifest()
    for lesson in manifest.lessons:
        print(f"{lesson.id}  {lesson.title}  (app: {lesson.app}, base: {lesson.base})")
        print(f"    tools: {', '.join(lesson.tools)}")
        for claim in lesson.claims:
            print(f"    claim {claim}: {manifest.claims[claim].says}")
    for peer in manifest.peers.values():
        print(f"peer {peer.name}  {peer.title}  ({peer.tool}; {peer.source})")


def _doctor(args: argparse.Namespace) -> None:
    from buildlab.engine.doctor import doctor

    doctor(fix=args.fix, python_minors=load_manifest().shape_python_minors())


def _build(args: argparse.Namespace) -> None:
    from buildlab.engine import builds, images, labels, private_index
    from buildlab.engine.daemon import require_engine

    variant = load_manifest().variant(args.lesson, args.tool)
    # Before the engine: a bad --netrc is a one-line error with or without one.
    extra = private_index.build_args(
        variant.lesson.private_index, netrc=args.netrc, secret=not args.no_secret
    )
    require_engine()
    if args.no_secret and variant.lesson.private_index:
        # The builder stage not from the cache: its install step runs, and shows what a build
        # without the secret does (a cached step would need no secret at all).
        extra += ["--no-cache-filter", "builder"]
    try:
        result = builds.build(variant.directory, labels.image_tag(variant.name), extra_args=extra)
        print(
            f"{variant.name}: built in {result.seconds:.1f} s, {images.size_text(result.tag)}, "
            f"{result.cached_count}/{len(result.build_steps)} steps cached"
        )
        if args.keep:
            print(result.tag)
    finally:
        if not args.keep:
            labels.cleanup()


def _run(args: argparse.Namespace) -> None:
    from buildlab.course.probe import build_and_probe
    from buildlab.engine import labels
    from buildlab.engine.daemon import require_engine

    manifest = load_manifest()
    variant = manifest.variant(args.lesson, args.tool)
    require_engine()
    try:
        build_and_probe(manifest, variant, keep_running=args.keep_running)
    finally:
        labels.cleanup()


def _dev(args: argparse.Namespace) -> None:
    import time

    from buildlab.engine import compose, labels
    from buildlab.engine.daemon import require_engine
    from buildlab.support.proc import port_is_free

    manifest = load_manifest()
    variant = manifest.variant(args.lesson, args.tool)
    if not variant.lesson.dev_stage:
        dev = [lesson.id for lesson in manifest.lessons if lesson.dev_stage]
        raise UsageError(
            f"{variant.lesson.id} has no dev stage (lessons with one: {', '.join(dev)})"
        )
    if not port_is_free(args.port):
        raise UsageError(f"port {args.port} on 127.0.0.1 is in use: pass --port with a free one")
    compose.require_compose()
    require_engine()
    app = manifest.apps[variant.lesson.app]
    try:
        with compose.watching(variant.directory, app.health_path, port=args.port) as watched:
            print(
                f"dev: {variant.name} serves {watched.url(app.health_path)}; edit the files "
                f"in {variant.directory} and they are served. Ctrl-C stops it and removes "
                "the container, its network and the dev image."
            )
            while True:
                time.sleep(3600)
    finally:
        labels.cleanup()


def _sync(args: argparse.Namespace) -> int:
    from buildlab.course.sync import drift, sync

    manifest = load_manifest()
    if args.check:
        problems = drift(manifest)
        for problem in problems:
            print(problem)
        if problems:
            raise BuildlabError(f"{len(problems)} app copies drifted: run `make sync`")
        print("sync: every app copy matches apps/")
        return 0
    for path in sync(manifest):
        print(f"sync: wrote {path}")
    return 0


def _relock(args: argparse.Namespace) -> None:
    from buildlab.course.locks import relock

    manifest = load_manifest()
    relock(manifest.lock_folders(manifest.select(args.lesson, args.tool)), upgrade=args.upgrade)


def _check_locks(args: argparse.Namespace) -> None:
    from buildlab.course.locks import stale_locks

    manifest = load_manifest()
    folders = manifest.lock_folders(manifest.all_variants())
    problems = []
    for in_image in {"host": [False], "image": [True], "all": [False, True]}[args.where]:
        problems += stale_locks(folders, in_image=in_image)
    if problems:
        raise BuildlabError(
            f"{len(problems)} stale lock(s): run `make relock`", detail="\n".join(problems)
        )
    print("locks: every lock is fresh")


def _docs(args: argparse.Namespace) -> None:
    from buildlab.pages.docs import stale_docs

    stale = stale_docs(load_manifest(), check=args.check)
    if args.check and stale:
        raise BuildlabError(
            "generated doc blocks or charts are stale: run `make docs`", detail="\n".join(stale)
        )
    for path in stale:
        print(f"docs: rewrote {path}")


def _site(args: argparse.Namespace) -> None:
    import os

    from buildlab.support.proc import run

    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    mkdocs = str(Path(sys.executable).with_name("mkdocs"))
    run(
        [
            mkdocs,
            "build",
            "--strict",
            "--config-file",
            str(ROOT / "mkdocs.yml"),
            "--site-dir",
            str(args.site_dir.resolve()),
        ],
        env=env,
        cwd=str(ROOT),
        timeout=600,
    )
    print(f"site: built {args.site_dir}/index.html (mkdocs --strict)")


def _lint(_: argparse.Namespace) -> None:
    from buildlab.course.lint import hadolint, workflow_lint

    ok, output = workflow_lint()
    last = output.splitlines()[-1] if output else ""
    print(f"{'ok  ' if ok else 'FAIL'} .github/workflows ({last})")
    failed = 0 if ok else 1
    for variant in load_manifest().all_variants():
        ok, output = hadolint(variant.directory / "Dockerfile")
        print(f"{'ok  ' if ok else 'FAIL'} {variant.name}/Dockerfile")
        if output:
            print(output)
        failed += not ok
    if failed:
        raise BuildlabError(f"hadolint found problems in {failed} Dockerfile(s)")


def _clean(_: argparse.Namespace) -> None:
    from buildlab.engine import labels, private_index, registry
    from buildlab.engine.daemon import require_engine

    require_engine()
    labels.cleanup(session=None)
    registry.empty()
    private_index.stop()
    print(
        "clean: removed every container and image labelled buildlab=1; emptied the registry; "
        "stopped the private package index and forgot its password (`make doctor` makes another)"
    )


def _adopt(args: argparse.Namespace) -> None:
    from buildlab.adopt.options import project_options
    from buildlab.adopt.prove import adopt

    adopt(
        load_manifest(),
        args.project,
        project_options(args),
        force=args.force,
        build=not args.no_build,
        relock=args.relock,
    )


def _trial(args: argparse.Namespace) -> int:
    from buildlab.adopt.trial import run

    return run(args)


def _exercise(args: argparse.Namespace) -> None:
    from buildlab.learn.exercise import make_exercise

    manifest = load_manifest()
    variant = manifest.variant(args.lesson, args.tool)
    make_exercise(manifest, variant.lesson, variant.tool, dest=args.path, force=args.force)


def _check(args: argparse.Namespace) -> int:
    from buildlab.adopt.options import ProjectOptions, project_options
    from buildlab.learn.check import check_exercise, check_project

    manifest = load_manifest()
    if args.lesson is not None:
        if len(args.where) != 1:
            raise UsageError("check --lesson LESSON takes one PROJECT folder")
        lesson = manifest.lesson(args.lesson)
        ok = check_project(manifest, lesson, Path(args.where[0]), project_options(args))
        return 0 if ok else 1
    if project_options(args) != ProjectOptions():
        raise UsageError("--tool, --app, --port and the other project flags go with --lesson")
    if len(args.where) not in (2, 3):
        raise UsageError("check takes LESSON TOOL [PATH], or --lesson 07 PROJECT")
    variant = manifest.variant(args.where[0], args.where[1])
    path = Path(args.where[2]) if len(args.where) == 3 else None
    return 0 if check_exercise(manifest, variant.lesson, variant.tool, path) else 1


def _progress(_: argparse.Namespace) -> None:
    from buildlab.learn.progress import progress_table

    print(progress_table(load_manifest()))


def _measure(args: argparse.Namespace) -> None:
    from buildlab.bench import charts, store, tables
    from buildlab.bench.campaign import failures, measure
    from buildlab.bench.display import build_progress
    from buildlab.bench.subjects import select_subjects

    manifest = load_manifest()
    subjects = select_subjects(
        manifest,
        lessons=args.lesson,
        tools=args.tool,
        apps=args.app,
        peers=args.peer,
        own_apps=args.own_apps,
    )
    if args.repeat < 1:
        raise UsageError(f"--repeat must be 1 or more, not {args.repeat}")
    total = len(subjects) * args.repeat * len(store.SCENARIOS)
    print(
        f"measure: {len(subjects)} subject(s) x {len(store.SCENARIOS)} scenarios x "
        f"{args.repeat} repetition(s) = {total} builds",
        flush=True,
    )
    with build_progress(total) as shown:
        data = measure(
            manifest,
            subjects,
            repetitions=args.repeat,
            output=args.output,
            progress=shown.show,
            done=shown.advance,
            resume=args.resume,
        )
    print()
    print(tables.provenance(data))
    for kind in dict.fromkeys(build["kind"] for build in data["builds"]):
        print()
        print(tables.builds_table(data, kind=kind), end="")
    written = charts.render(data, args.output.parent)
    print()
    drawn = f" and {', '.join(str(p) for p in written)}" if written else ""
    print(f"measure: wrote {args.output}{drawn}")
    failed = failures(data)
    if failed:
        raise BuildlabError(
            f"{len(failed)} build(s) failed (recorded in {args.output})", detail="\n".join(failed)
        )


if __name__ == "__main__":
    sys.exit(main())
