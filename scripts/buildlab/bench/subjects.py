"""What `buildlab measure` builds: a *subject* is a lesson in one tool, a peer (a public recipe
written here) or a variation of a lesson, each for one app, chosen from the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass

from buildlab.course.model import App, Manifest, Peer, Variant, Variation
from buildlab.engine import private_index
from buildlab.support.errors import (
    UsageError,
)


@dataclass(frozen=True)
class Subject:
    """One thing to measure: a lesson in one tool, a peer or a variation, built for one app.

    `variant` is the lesson folder whose scratch copy is the build context (a peer uses the
    folder of the first production lesson in its tool: the same app files and lock)."""

    kind: str  # "lesson", "peer" or "variation"
    name: str  # lesson id, peer name, or "LESSON+VARIATION"
    variant: Variant
    app: App
    own_app: App  # the app the lesson folder holds
    peer: Peer | None = None
    variation: Variation | None = None

    @property
    def tool(self) -> str:
        return self.variant.tool

    @property
    def label(self) -> str:
        suffix = "" if self.app == self.own_app else f" ({self.app.name} app)"
        return f"{self.name}/{self.tool}{suffix}"

    @property
    def build_args(self) -> list[str]:
        """What its builds need: lesson 10's private index secret."""
        return private_index.build_args(self.variant.lesson.private_index)

    @property
    def times_startup(self) -> bool:
        """Start-up imports are timed for the images people copy: production lessons, peers
        and variations."""
        return self.kind != "lesson" or self.variant.lesson.production


def select_subjects(
    manifest: Manifest,
    *,
    lessons: list[str] | None,
    tools: list[str] | None,
    apps: list[str] | None,
    peers: list[str] | None,
    own_apps: bool = False,
) -> list[Subject]:
    """Lessons x tools x apps, then peers and variations, from the manifest.

    own_apps: each lesson with its own app only (none of its `measure_apps`), the peers with
    the primary app (what `make demo` measures when no APP is given).

    No lesson and no peer named: everything. Naming lessons leaves peers out unless named
    (a lesson's variations come with it); naming peers leaves lessons out unless named.
    A lesson that builds the previous lesson's image unchanged is not measured again.
    Unknown names, or naming such a lesson, are a UsageError (exit 2)."""
    for name in apps or []:
        manifest.app(name)
    for name in peers or []:
        manifest.peer(name)
    everything = not lessons and not peers

    def wanted(app: App) -> bool:
        return not apps or app.name in apps

    for name in lessons or []:
        lesson = manifest.lesson(name)
        if lesson.same_image_as_previous:
            raise UsageError(
                f"{lesson.id} builds the previous lesson's image, digest for digest: "
                "measure that lesson instead"
            )
    out: list[Subject] = []
    if everything or lessons:
        for variant in manifest.select(lessons, tools):
            if variant.lesson.same_image_as_previous:
                continue
            own = manifest.apps[variant.lesson.app]
            others = [] if own_apps else [manifest.apps[n] for n in variant.lesson.measure_apps]
            for app in [own, *others]:
                if wanted(app):
                    out.append(Subject("lesson", variant.lesson.id, variant, app, own))
    production = manifest.production_lesson
    own = manifest.apps[production.app]
    for peer in manifest.peers.values():
        if (everything or peer.name in (peers or [])) and (not tools or peer.tool in tools):
            out += [
                Subject("peer", peer.name, Variant(production, peer.tool), app, own, peer=peer)
                for app in (manifest.apps[n] for n in manifest.peer_apps)
                if wanted(app) and (not own_apps or app.name == manifest.primary_app)
            ]
    chosen = {manifest.lesson(name).id for name in lessons or []}
    for variation in manifest.variations.values():
        lesson = manifest.lesson(variation.lesson)
        if everything or lesson.id in chosen:
            app = manifest.apps[lesson.app]
            out += [
                Subject(
                    "variation",
                    f"{lesson.id}+{variation.name}",
                    Variant(lesson, tool),
                    app,
                    app,
                    variation=variation,
                )
                for tool in variation.tools
                if (not tools or tool in tools) and wanted(app)
            ]
    if not out:
        raise UsageError("nothing to measure: nothing selected builds that app with that tool")
    return out
