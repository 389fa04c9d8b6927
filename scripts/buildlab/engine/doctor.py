"""`buildlab doctor [--fix]`: what the Docker tier needs: a working engine with buildx, the
pinned base images, a local image registry, Docker Compose (lesson 09's development loop) and
a private package index (lesson 10); and a headless Chromium for the docs site."""

from __future__ import annotations

from buildlab.engine.browser import ensure_browser
from buildlab.engine.compose import ensure_compose
from buildlab.engine.daemon import ensure_engine
from buildlab.engine.private_index import ensure_private_index
from buildlab.engine.registry import ensure_registry
from buildlab.engine.stand_ins import ensure_base_images


def doctor(*, fix: bool, python_minors: tuple[str, ...] = ()) -> None:
    """`python_minors`: the other Pythons the tests use (the project shapes'), built with
    --fix as the pinned images are."""
    ensure_engine(fix=fix)
    ensure_base_images(fix=fix, minors=python_minors)
    ensure_registry(fix=fix)
    ensure_compose(fix=fix)
    ensure_private_index(fix=fix)
    ensure_browser(fix=fix)
