"""MkDocs hooks (mkdocs.yml): the site is the repository's own Markdown, at its own paths.

The site mirrors the repository tree, so every relative link that works on GitHub works on the
site: README.md is the home page, each lesson README is a page next to its Dockerfiles, and
docs/ keeps its folder. The nav is built from lessons.toml (one manifest for everything).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files, InclusionLevel

from buildlab.course.manifest import load_manifest
from buildlab.support.paths import LESSONS_DIR, PEERS_DIR, ROOT, SHAPES_DIR

SKIP_PARTS = {"__pycache__", ".venv", ".pytest_cache", ".ruff_cache"}
EXTRA_FILES = [".github/workflows/ci.yml"]  # linked from lesson 08


def _site_sources() -> list[Path]:
    paths = [
        ROOT / "README.md",
        *(ROOT / "docs").rglob("*"),
        *LESSONS_DIR.rglob("*"),
        *PEERS_DIR.rglob("*"),
        *SHAPES_DIR.rglob("*"),
        *(ROOT / name for name in EXTRA_FILES),
    ]
    return sorted(
        p for p in paths if p.is_file() and not SKIP_PARTS.intersection(p.relative_to(ROOT).parts)
    )


def on_config(config: Any) -> Any:
    manifest = load_manifest()
    lessons = [
        {f"{lesson.id[:2]} {lesson.title}": f"lessons/{lesson.id}/README.md"}
        for lesson in manifest.lessons
    ]
    config.nav = [
        {"Home": "README.md"},
        {"Lessons": lessons},
        {"Workshop": "docs/workshop.md"},
        {"Results": "docs/results.md"},
        {"Peers": "peers/README.md"},
        {"Project shapes": "shapes/README.md"},
        {"The test engine": "docs/test-engine.md"},
        {"Extending the course": "docs/extending.md"},
    ]
    return config


def on_files(files: Files, config: Any) -> Files:
    """Swap docs_dir's listing for the repository's files at their repository paths; keep the
    theme's own files (stylesheets, scripts, fonts, search), which the site needs to work."""
    docs_dir = Path(config.docs_dir).resolve()
    theme = [f for f in files if not Path(f.abs_src_path or "").resolve().is_relative_to(docs_dir)]
    ours = [
        File(
            str(path.relative_to(ROOT)),
            str(ROOT),
            config.site_dir,
            config.use_directory_urls,
            inclusion=InclusionLevel.INCLUDED,
        )
        for path in _site_sources()
    ]
    return Files(theme + ours)
