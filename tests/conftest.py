"""Shared fixtures. In CI (CI=true or BUILDLAB_FORBID_SKIPS=1) every skip becomes a failure.

The Docker tier runs in two parts (scripts/test): tests on two pytest-xdist workers, then the
`prunes` ones alone. Every test of one lesson variant goes to one worker in order
(`_group`): its claims share that worker's builds. A test prunes when it empties the
builder's cache or its cache mounts, which another worker's build may be counting on.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import PurePosixPath

import pytest

from buildlab.claims.catalog import PRUNES_BUILD_CACHE, PRUNES_CACHE_MOUNTS
from buildlab.course.manifest import load_manifest
from buildlab.course.model import Manifest

FORBID_SKIPS = os.environ.get("CI") == "true" or os.environ.get("BUILDLAB_FORBID_SKIPS") == "1"
PRUNING_CLAIMS = PRUNES_BUILD_CACHE | PRUNES_CACHE_MOUNTS
# Modules every test of which prunes (`buildlab measure` starts each subject cold), and modules
# whose tests share a module fixture (one worker builds the docs site, one browser).
PRUNING_MODULES = {"test_measure_docker"}
ONE_WORKER_MODULES = {"test_site_browser", "test_learn_docker", "test_adopt_docker"}
# What tests record in helpers.py's lists travels in each test's report (from an xdist worker
# to the summary), under a key: the key, the list's name and the summary's section title.
FACT_LISTS = {
    "buildlab_fact": ("FACTS", "figures the claim tests measured"),
    "buildlab_control": (
        "CONTROL_FAILURES",
        "negative controls: where each claim's check failed, as it must",
    ),
}
REPORTED: dict[str, list[str]] = {key: [] for key in FACT_LISTS}


@pytest.fixture(scope="session")
def manifest() -> Manifest:
    return load_manifest()


def _claims_of(item: pytest.Item) -> set[str]:
    """The claims a test runs (from its parameters), to tell whether it prunes."""
    params = getattr(item, "callspec", None)
    if params is None:
        return set()
    found: set[str] = set()
    for value in params.params.values():
        if isinstance(value, str):
            found.add(value)
        elif hasattr(value, "id") and hasattr(value, "control"):  # a Claim
            found.add(value.id)
        elif hasattr(value, "unsolved"):  # a Lesson: the claims its exercise runs
            found.update(entry.claim for entry in value.unsolved)
    return found


VARIANTS = {variant.name for variant in load_manifest().all_variants()}


def _group(nodeid: str) -> str | None:
    """The worker group of a test, from its id: one lesson variant (`LESSON/TOOL`, how the
    variant tests' parameters are named), one shared fixture; None: any worker."""
    module, _, test = nodeid.partition("::")
    if (stem := PurePosixPath(module).stem) in ONE_WORKER_MODULES:
        return stem
    name, _, param = test.partition("[")
    if name == "test_lock_is_fresh_by_its_tools_own_check_in_the_image":
        return "in-image-locks"  # they share one session fixture
    variant = param.rstrip("]").split(":", 1)[0]
    return variant if variant in VARIANTS else None


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """`--dist loadgroup`, grouped by `_group`: xdist 3.8 marks a group by rewriting each
    item's `_nodeid`, which pytest 9.2 no longer reads, so its groups are silently lost (every
    worker built every variant); the controller sees only test ids, so the group comes from the
    id."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):  # type: ignore[misc]  # xdist ships no types
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid) or nodeid

    return ByGroup(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.stem in PRUNING_MODULES or _claims_of(item) & PRUNING_CLAIMS:
            item.add_marker(pytest.mark.prunes)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    import helpers

    report = yield
    if FORBID_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, and skips are failures in CI: {reason}"
    for key, (name, _) in FACT_LISTS.items():  # what this phase of the test measured
        lines: list[str] = getattr(helpers, name)
        report.user_properties.extend((key, line) for line in lines)
        lines.clear()
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """On the process that prints the summary (xdist's controller, or pytest itself)."""
    for key, value in report.user_properties:
        if key in REPORTED:
            REPORTED[key].append(str(value))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What the claim tests measured on their way (requests served, stop times, digests)."""
    for key, (_, title) in FACT_LISTS.items():
        if REPORTED[key]:
            terminalreporter.section(title)
            for line in REPORTED[key]:
                terminalreporter.write_line(line)
