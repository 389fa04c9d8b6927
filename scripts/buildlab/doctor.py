"""`buildlab doctor [--fix]`: a working engine with buildx and the pinned base images."""

from __future__ import annotations

from buildlab.engine import ensure_engine
from buildlab.standin import ensure_base_images


def doctor(*, fix: bool) -> None:
    ensure_engine(fix=fix)
    ensure_base_images(fix=fix)
