"""Typed access to pins.toml, the one place every version is pinned."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache

from buildlab.support.paths import PINS_FILE


@dataclass(frozen=True)
class Pins:
    images: dict[str, str]
    debian_suite: str
    tools: dict[str, str]
    engine: dict[str, str]
    dev: dict[str, str]
    python_minors: dict[str, str]  # a Python minor -> the Debian suite whose python3 it is

    def image(self, key: str) -> str:
        return self.images[key]

    def tool(self, name: str) -> str:
        return self.tools[name]


@cache
def load_pins() -> Pins:
    data = tomllib.loads(PINS_FILE.read_text())
    images = dict(data["images"])
    suite = images.pop("debian_suite")
    return Pins(
        images=images,
        debian_suite=suite,
        tools=dict(data["tools"]),
        engine=dict(data["engine"]),
        dev=dict(data["dev"]),
        python_minors=dict(data.get("python_minors", {})),
    )
