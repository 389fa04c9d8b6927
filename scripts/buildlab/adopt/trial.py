"""`buildlab trial LIST`: adopt tried on other people's projects, one row each.

LIST is a text file, one project per line: a git repository (URL or path), optionally
`#SUBFOLDER` where the app lives, then any of adopt's flags. Each is cloned (depth 1) into a
temporary folder, its own Dockerfile set aside, adopted and proven there; the folder is removed
whatever happens. Nothing is written into the repository. The table says, for each, whether the
image lesson 07 wrote served, and the first line of why not.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from buildlab.adopt.detect import detect_tool
from buildlab.adopt.options import add_adopt_arguments, project_options
from buildlab.adopt.prove import adopt
from buildlab.course.model import Manifest
from buildlab.support.errors import BuildlabError, UsageError


@dataclass(frozen=True)
class Entry:
    source: str
    subfolder: str
    flags: tuple[str, ...]

    @property
    def name(self) -> str:
        """The repository's name: its last path part, or the folder above a bare `repo`
        (a mirror kept as OWNER+NAME/repo)."""
        parts = self.source.rstrip("/").removesuffix(".git").split("/")
        tail = parts[-2] if parts[-1] == "repo" and len(parts) > 1 else parts[-1]
        return f"{tail}/{self.subfolder}" if self.subfolder else tail


@dataclass(frozen=True)
class Row:
    entry: Entry
    tool: str
    served: bool
    why: str
    cold_s: float | None = None


def _flag_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trial line", add_help=False, exit_on_error=False)
    add_adopt_arguments(parser)  # --force and --no-build too: trial always forces and builds
    return parser


def read_list(path: Path) -> list[Entry]:
    """The projects of a list file; a line that cannot be read is one error naming it."""
    if not path.is_file():
        raise UsageError(f"{path}: no such list of projects (one git repository per line)")
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        words = shlex.split(line)
        source, _, subfolder = words[0].partition("#")
        try:
            _, unknown = _flag_parser().parse_known_args(words[1:])
        except argparse.ArgumentError as exc:
            raise UsageError(f"{path}:{number}: {exc}") from exc
        if unknown:
            raise UsageError(f"{path}:{number}: not an adopt flag: {' '.join(unknown)}")
        entries.append(Entry(source, subfolder.strip("/"), tuple(words[1:])))
    if not entries:
        raise UsageError(f"{path}: lists no project")
    return entries


def _clone(entry: Entry, into: Path) -> Path:
    clone = subprocess.run(
        ["git", "clone", "--quiet", "--depth", "1", _git_source(entry.source), str(into)],
        capture_output=True,
        text=True,
        check=False,
    )
    if clone.returncode != 0:
        last = (clone.stderr.strip().splitlines() or ["git clone failed"])[-1]
        raise BuildlabError(f"cannot clone {entry.source}: {last}")
    project = into / entry.subfolder
    if not project.is_dir():
        raise BuildlabError(f"{entry.source} has no folder {entry.subfolder}")
    return project


def _git_source(source: str) -> str:
    """A local repository as a file:// URL, so that --depth applies to it too."""
    local = Path(source).expanduser()
    return local.resolve().as_uri() if local.exists() else source


def try_one(manifest: Manifest, entry: Entry, say: Callable[[str], None]) -> Row:
    with tempfile.TemporaryDirectory(prefix="buildlab-trial-") as tmp:
        tool = "?"
        try:
            project = _clone(entry, Path(tmp) / "project")
            for own in ("Dockerfile", ".dockerignore"):  # theirs is not what is tried here
                (project / own).unlink(missing_ok=True)
            args = _flag_parser().parse_args(list(entry.flags))
            tool = detect_tool(project, args.tool)[0].name
            guess, figures = adopt(
                manifest,
                project,
                project_options(args),
                force=True,
                build=True,
                relock=args.relock,
                say=say,
            )
        except BuildlabError as exc:  # its first line, with the clone's path as the entry's name
            why = str(exc).splitlines()[0].replace(str(Path(tmp) / "project"), entry.name)
            return Row(entry, tool, False, why)
        return Row(entry, guess.tool, True, "", figures.cold_s if figures else None)


def table(rows: list[Row]) -> str:
    lines = [
        "| project | flags | tool | served | cold build | why not |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        cold = f"{row.cold_s:.0f} s" if row.cold_s is not None else ""
        why = row.why.replace("|", "\\|")
        flags = " ".join(row.entry.flags) or "none"
        served = "yes" if row.served else "no"
        lines.append(f"| {row.entry.name} | {flags} | {row.tool} | {served} | {cold} | {why} |")
    return "\n".join(lines)


def trial(manifest: Manifest, path: Path, say: Callable[[str], None] = print) -> list[Row]:
    rows = []
    for entry in read_list(path):
        say(f"trial: {entry.source} {' '.join(entry.flags)}".rstrip())
        rows.append(try_one(manifest, entry, say))
    say("")
    say(table(rows))
    return rows


def run(args: argparse.Namespace) -> int:
    """`buildlab trial LIST`: 0 only when every listed project served."""
    from buildlab.course.manifest import load_manifest

    return 0 if all(row.served for row in trial(load_manifest(), args.list)) else 1
