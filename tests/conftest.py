"""Shared fixtures. In CI (CI=true or BUILDLAB_FORBID_SKIPS=1) every skip becomes a failure."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from buildlab.manifest import Manifest, load_manifest

FORBID_SKIPS = os.environ.get("CI") == "true" or os.environ.get("BUILDLAB_FORBID_SKIPS") == "1"


@pytest.fixture(scope="session")
def manifest() -> Manifest:
    return load_manifest()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if FORBID_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, and skips are failures in CI: {reason}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What the claim tests measured on their way (requests served, stop times, digests)."""
    from claims import FACTS

    if FACTS:
        terminalreporter.section("figures the claim tests measured")
        for line in FACTS:
            terminalreporter.write_line(line)
