"""Fast tier: the package's folders are its layers, and no import runs against them."""

from __future__ import annotations

import ast
from pathlib import Path

from buildlab.support.paths import ROOT

PACKAGE = ROOT / "scripts" / "buildlab"
# Lowest first. A module may import its own folder and any folder of a lower layer, never one
# of its own layer or a higher one (claims and bench, both on the course, know nothing of
# each other). The modules at the package's top (cli, __main__) are the top layer.
LAYERS = {
    "support": 0,  # errors, paths, running commands, pins
    "engine": 1,  # Docker, base images, registry, private index, compose, browser
    "course": 2,  # the manifest, tools, the top block, lesson folders, locks
    "claims": 3,  # what a lesson promises, each as a function that builds and runs
    "bench": 3,  # the benchmark: subjects, the campaign, results, charts
    "adopt": 4,  # lesson 07 in someone else's project
    "learn": 5,  # exercises, checking a learner's Dockerfile, progress
    "pages": 6,  # generated docs and the site
    "": 7,  # the command line
}
LONGEST_MODULE_LINES = 500


def _folder(module: Path, package: Path) -> str:
    parts = module.relative_to(package).parts
    return parts[0] if len(parts) > 1 else ""


def _imported_folders(module: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = node.module.split(".")
            if names[0] != "buildlab":
                continue
            if len(names) > 1:
                found.add(names[1] if names[1] in LAYERS else "")
            else:  # from buildlab import x: x is a folder, or a top module
                found |= {alias.name if alias.name in LAYERS else "" for alias in node.names}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names = alias.name.split(".")
                if names[0] == "buildlab" and len(names) > 1:
                    found.add(names[1] if names[1] in LAYERS else "")
    return found


def modules(package: Path = PACKAGE) -> list[Path]:
    return sorted(p for p in package.rglob("*.py") if "stand_in_site" not in p.parts)


def against_the_layers(package: Path = PACKAGE) -> list[str]:
    problems = []
    for module in modules(package):
        own = _folder(module, package)
        for folder in sorted(_imported_folders(module) - {own}):
            if LAYERS[folder] >= LAYERS[own]:
                problems.append(
                    f"{module.relative_to(package)} imports buildlab.{folder or '<top>'} "
                    f"(layer {LAYERS[folder]}) from layer {LAYERS[own]}"
                )
    return problems


def test_every_folder_is_a_layer() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(LAYERS) - {""}


def test_no_import_runs_against_the_layers() -> None:
    assert against_the_layers() == []


def test_no_module_is_too_long_to_read() -> None:
    long = {
        str(m.relative_to(PACKAGE)): n
        for m in modules()
        if (n := len(m.read_text().splitlines())) > LONGEST_MODULE_LINES
    }
    assert long == {}, f"split these (more than {LONGEST_MODULE_LINES} lines): {long}"


def test_the_layer_check_finds_an_import_against_the_layers(tmp_path: Path) -> None:
    """Its negative control: the engine importing the course, and claims importing bench."""
    package = tmp_path / "buildlab"
    for folder, text in {
        "engine": "from buildlab.course.manifest import Manifest\n",
        "claims": "from buildlab.bench import campaign\n",
        "course": "from buildlab.engine import docker\n",  # downwards: allowed
    }.items():
        (package / folder).mkdir(parents=True)
        (package / folder / "module.py").write_text(text)
    assert against_the_layers(package) == [
        "claims/module.py imports buildlab.bench (layer 3) from layer 3",
        "engine/module.py imports buildlab.course (layer 2) from layer 1",
    ]
