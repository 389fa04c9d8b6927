"""Where things are in the repository."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LESSONS_DIR = ROOT / "lessons"
APPS_DIR = ROOT / "apps"
PEERS_DIR = ROOT / "peers"
SHAPES_DIR = ROOT / "shapes"
MANIFEST_FILE = ROOT / "lessons.toml"
PINS_FILE = ROOT / "pins.toml"
STATE_DIR = ROOT / ".buildlab"  # git-ignored: logs, downloaded wheels, scratch space
