"""Reading the course manifest (lessons.toml) into the types of `buildlab.course.model`, strictly.

Every table says which keys it takes: a key it does not know (a typo, a renamed key) and a
required key that is missing are one clear error naming the table, the key and the keys it
does take. Nothing is ignored silently.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from buildlab.course.model import (
    TARGET_KINDS,
    App,
    Claim,
    Control,
    Lesson,
    Manifest,
    MetricRef,
    Peer,
    Probe,
    Shape,
    TargetSpec,
    Unsolved,
    Variation,
)
from buildlab.course.tools import TOOLS
from buildlab.support.errors import BuildlabError
from buildlab.support.paths import MANIFEST_FILE

# 3: lessons have goal, task and unsolved; claims a hint; controls fails_with.
FORMAT_VERSION = 3


class ManifestError(BuildlabError):
    """lessons.toml does not say what this buildlab reads."""


@dataclass(frozen=True)
class Keys:
    """The keys a table takes: those it must have, and those it may have."""

    required: frozenset[str]
    optional: frozenset[str] = frozenset()

    @classmethod
    def of(cls, required: str, optional: str = "") -> Keys:
        return cls(frozenset(required.split()), frozenset(optional.split()))


TOP = Keys.of(
    "format_version tools primary_app apps claims lessons",
    "peer_apps shapes peers variations targets",
)
APP = Keys.of("title package port health_path probe code_file production_cmd", "top_block run_env")
PROBE = Keys.of("method path expect", "body")
CLAIM = Keys.of("says hint", "control holds_earlier")
CONTROL = Keys.of("lesson tool fails_with", "break")
UNSOLVED = Keys.of("claim fails_with", "tools")
SHAPE = Keys.of("says tool app", "top_block lock_command lock_files code_changes")
LESSON = Keys.of(
    "id title goal app base claims task",
    "unsolved starts_solved tools locks builder production test_apps test_shapes measure_apps "
    "dev_stage added_dependency private_index builds_on",
)
PEER = Keys.of("title source tool")
VARIATION = Keys.of("lesson tools add_after_code", "shown_in")
TARGET = Keys.of("says kind of limit", "to tools why_missed")
METRIC = Keys.of("metric", "lesson peers app")
LOCK_STYLES = ("pinned", "hashed")


def checked(table: Any, keys: Keys, where: str) -> Mapping[str, Any]:
    """The table, once it has every required key and no unknown one (else ManifestError)."""
    if not isinstance(table, dict):
        raise ManifestError(f"lessons.toml: {where} must be a table, not {type(table).__name__}")
    unknown = sorted(set(table) - keys.required - keys.optional)
    missing = sorted(keys.required - set(table))
    known = ", ".join(sorted(keys.required | keys.optional))
    if unknown:
        raise ManifestError(
            f"lessons.toml: {where} has unknown key {', '.join(map(repr, unknown))} "
            f"(it takes: {known})"
        )
    if missing:
        raise ManifestError(f"lessons.toml: {where} lacks {', '.join(map(repr, missing))}")
    return table


def text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ManifestError(f"lessons.toml: {where} must be a string, not {type(value).__name__}")
    return value


def strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(each, str) for each in value):
        raise ManifestError(f"lessons.toml: {where} must be a list of strings")
    return tuple(value)


def _app(name: str, spec: Any) -> App:
    spec = checked(spec, APP, f"[apps.{name}]")
    probe = checked(spec["probe"], PROBE, f"[apps.{name}] probe")
    return App(
        name=name,
        title=spec["title"],
        package=spec["package"],
        port=int(spec["port"]),
        health_path=spec["health_path"],
        probe=Probe(**probe),
        code_file=spec["code_file"],
        production_cmd=tuple(spec["production_cmd"]),
        top_block=tuple(spec.get("top_block", {}).items()),
        run_env=tuple(spec.get("run_env", {}).items()),
    )


def _claim(cid: str, spec: Any) -> Claim:
    spec = checked(spec, CLAIM, f"[claims.{cid}]")
    control = None
    if "control" in spec:
        found = checked(spec["control"], CONTROL, f"[claims.{cid}] control")
        control = Control(
            lesson=found["lesson"],
            tool=found["tool"],
            fails_with=found["fails_with"],
            breaks=found.get("break"),
        )
    return Claim(
        id=cid,
        says=text(spec["says"], f"[claims.{cid}] says"),
        control=control,
        holds_earlier=spec.get("holds_earlier"),
        hint=" ".join(text(spec["hint"], f"[claims.{cid}] hint").split()),
    )


def _lesson(spec: Any, tools: tuple[str, ...], number: int) -> Lesson:
    named = spec.get("id") if isinstance(spec, dict) else None
    where = f"[[lessons]] {named}" if named else f"[[lessons]] number {number}"
    spec = checked(spec, LESSON, where)
    style = spec.get("locks", "pinned")
    if style not in LOCK_STYLES:
        raise ManifestError(f"lessons.toml: {where} locks = {style!r}; styles: {LOCK_STYLES}")
    unsolved = tuple(
        Unsolved(
            claim=each["claim"],
            fails_with=each["fails_with"],
            tools=strings(each.get("tools", []), f"{where} unsolved tools"),
        )
        for each in (checked(u, UNSOLVED, f"{where} unsolved") for u in spec.get("unsolved", []))
    )
    return Lesson(
        id=spec["id"],
        title=spec["title"],
        goal=" ".join(text(spec["goal"], f"{where} goal").split()),
        task=strings(spec["task"], f"{where} task"),
        unsolved=unsolved,
        starts_solved=tuple(spec.get("starts_solved", {}).items()),
        app=spec["app"],
        base=spec["base"],
        tools=strings(spec.get("tools", list(tools)), f"{where} tools"),
        claims=strings(spec["claims"], f"{where} claims"),
        hashed_locks=style == "hashed",
        builder=spec.get("builder"),
        production=bool(spec.get("production", False)),
        test_apps=strings(spec.get("test_apps", []), f"{where} test_apps"),
        test_shapes=strings(spec.get("test_shapes", []), f"{where} test_shapes"),
        measure_apps=strings(spec.get("measure_apps", []), f"{where} measure_apps"),
        dev_stage=bool(spec.get("dev_stage", False)),
        added_dependency=spec.get("added_dependency", ""),
        private_index=bool(spec.get("private_index", False)),
        builds_on=spec.get("builds_on", ""),
    )


def _shape(name: str, spec: Any) -> Shape:
    spec = checked(spec, SHAPE, f"[shapes.{name}]")
    return Shape(
        name=name,
        says=spec["says"],
        tool=spec["tool"],
        app=spec["app"],
        top_block=tuple(spec.get("top_block", {}).items()),
        lock_command=spec.get("lock_command", ""),
        lock_files=tuple(spec.get("lock_files", ())),
        code_changes=tuple(spec.get("code_changes", {}).items()),
    )


def _metric_ref(spec: Any, primary_app: str, where: str) -> MetricRef:
    spec = checked(spec, METRIC, where)
    return MetricRef(
        metric=spec["metric"],
        app=spec.get("app", primary_app),
        lesson=spec.get("lesson"),
        peers=spec.get("peers") == "all",
    )


def _target(spec: Any, primary: str) -> TargetSpec:
    says = spec.get("says", "") if isinstance(spec, dict) else ""
    spec = checked(spec, TARGET, f"[[targets]] {says!r}")
    where = f"[[targets]] {spec['says']!r}"
    if spec["kind"] not in TARGET_KINDS:
        raise ManifestError(
            f"lessons.toml: {where} has unknown kind {spec['kind']!r}; kinds: "
            f"{', '.join(TARGET_KINDS)}"
        )
    return TargetSpec(
        says=spec["says"],
        kind=spec["kind"],
        of=_metric_ref(spec["of"], primary, f"{where} of"),
        limit=float(spec["limit"]),
        to=_metric_ref(spec["to"], primary, f"{where} to") if "to" in spec else None,
        tools=tuple(spec.get("tools", ())),
        why_missed=" ".join(spec.get("why_missed", "").split()),
    )


def parse_manifest(text: str) -> Manifest:
    """The manifest a lessons.toml text describes (ManifestError when it says anything else)."""
    try:
        data = checked(tomllib.loads(text), TOP, "the top level")
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"lessons.toml is not valid TOML: {exc}") from exc
    if data["format_version"] != FORMAT_VERSION:
        raise ManifestError(
            f"lessons.toml has format_version {data['format_version']!r}; this buildlab reads "
            f"format_version {FORMAT_VERSION}"
        )
    tools = strings(data["tools"], "tools")
    primary = data["primary_app"]
    return cross_checked(
        Manifest(
            tools=tools,
            primary_app=primary,
            apps={name: _app(name, spec) for name, spec in data["apps"].items()},
            claims={cid: _claim(cid, spec) for cid, spec in data["claims"].items()},
            lessons=tuple(
                _lesson(spec, tools, number) for number, spec in enumerate(data["lessons"], start=1)
            ),
            peers={
                name: Peer(name=name, **checked(spec, PEER, f"[peers.{name}]"))
                for name, spec in data.get("peers", {}).items()
            },
            variations={
                name: Variation(
                    name=name,
                    lesson=spec["lesson"],
                    tools=tuple(spec["tools"]),
                    add_after_code=spec["add_after_code"],
                    shown_in=spec.get("shown_in"),
                )
                for name, spec in data.get("variations", {}).items()
                if checked(spec, VARIATION, f"[variations.{name}]")
            },
            targets=tuple(_target(spec, primary) for spec in data.get("targets", [])),
            peer_apps=tuple(data.get("peer_apps", [primary])),
            shapes={name: _shape(name, spec) for name, spec in data.get("shapes", {}).items()},
        )
    )


def cross_checked(manifest: Manifest) -> Manifest:
    """Every name one table gives of another exists there (a typo is one line, here, not a
    KeyError wherever it is first used)."""
    lessons = {lesson.id for lesson in manifest.lessons}
    tools = set(manifest.tools)

    def known(
        names: tuple[str, ...] | list[str], among: set[str] | dict[str, Any], what: str
    ) -> None:
        unknown = [name for name in names if name not in among]
        if unknown:
            raise ManifestError(f"lessons.toml: {what} names unknown {', '.join(unknown)}")

    known([manifest.primary_app], manifest.apps, "primary_app")
    known(manifest.tools, TOOLS, "tools (each needs its class in scripts/buildlab/course/tools.py)")
    for lesson in manifest.lessons:
        where = f"[[lessons]] {lesson.id}"
        known(lesson.claims, manifest.claims, f"{where} claims")
        known([lesson.app, *lesson.test_apps, *lesson.measure_apps], manifest.apps, f"{where} apps")
        known(lesson.test_shapes, manifest.shapes, f"{where} test_shapes")
        known(lesson.tools, tools, f"{where} tools")
        known([lesson.builds_on] if lesson.builds_on else [], lessons, f"{where} builds_on")
        known([u.claim for u in lesson.unsolved], set(lesson.claims), f"{where} unsolved")
        known([u for entry in lesson.unsolved for u in entry.tools], tools, f"{where} unsolved")
        known([name for name, _ in lesson.starts_solved], tools, f"{where} starts_solved")
    for claim in manifest.claims.values():
        if claim.control is not None:
            known([claim.control.lesson], lessons, f"[claims.{claim.id}] control")
            known([claim.control.tool], tools, f"[claims.{claim.id}] control")
    for name, peer in manifest.peers.items():
        known([peer.tool], tools, f"[peers.{name}] tool")
    for name, shape in manifest.shapes.items():
        known([shape.tool], tools, f"[shapes.{name}] tool")
    for name, variation in manifest.variations.items():
        known([variation.lesson], lessons, f"[variations.{name}] lesson")
        known(variation.tools, tools, f"[variations.{name}] tools")
    for target in manifest.targets:
        known(target.tools, tools, f"[[targets]] {target.says!r} tools")
    return manifest


@cache
def load_manifest(path: Path = MANIFEST_FILE) -> Manifest:
    return parse_manifest(path.read_text())
