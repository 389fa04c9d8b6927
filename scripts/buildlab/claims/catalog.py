"""Every claim id of lessons.toml and the one function that checks it (a fast test fails when
the two lists disagree)."""

from __future__ import annotations

from buildlab.claims import (
    caching,
    contents,
    devloop,
    django_site,
    locking,
    private,
    reproducible,
    serving,
    shapes,
)
from buildlab.claims.candidate import Candidate
from buildlab.claims.verdict import ClaimCheck, Verdict, check

# Claims whose check empties the engine's whole build cache (`docker builder prune`), and
# those that empty every cache mount: a build beside them loses what it counted on.
PRUNES_BUILD_CACHE = frozenset({"cache-export-survives-prune"})
PRUNES_CACHE_MOUNTS = frozenset({"private-index-needs-the-secret"})

CLAIMS: dict[str, ClaimCheck] = {
    "serves-http": serving.serves_http,
    "code-change-reinstalls-dependencies": caching.code_change_reinstalls_dependencies,
    "code-change-keeps-dependencies-cached": caching.code_change_keeps_dependencies_cached,
    "code-change-ships-only-code": caching.code_change_ships_only_code,
    "version-bump-keeps-dependencies-cached": caching.version_bump_keeps_dependencies_cached,
    "stale-lock-fails-build": locking.stale_lock_fails_build,
    "locked-installs-are-identical": locking.locked_installs_are_identical,
    "smaller-than-previous-lesson": contents.smaller_than_previous_lesson,
    "lean-image": contents.lean_image,
    "no-build-tools-in-runtime": contents.no_build_tools_in_runtime,
    "no-installer-in-runtime": contents.no_installer_in_runtime,
    "runtime-is-base-plus-app": contents.runtime_is_base_plus_app,
    "dependency-change-uses-cache-mount": caching.dependency_change_uses_cache_mount,
    "cache-mount-not-in-image": caching.cache_mount_not_in_image,
    "runs-as-non-root": serving.runs_as_non_root,
    "healthcheck-reaches-healthy": serving.healthcheck_reaches_healthy,
    "stops-gracefully": serving.stops_gracefully,
    "no-request-lost-on-stop": serving.no_request_lost_on_stop,
    "serves-hardened": serving.serves_hardened,
    "serves-as-any-uid": serving.serves_as_any_uid,
    "no-setuid-files": contents.no_setuid_files,
    "bytecode-precompiled": contents.bytecode_precompiled,
    "project-shapes-serve": shapes.project_shapes_serve,
    "cache-export-survives-prune": caching.cache_export_survives_prune,
    "reproducible-digest": reproducible.reproducible_digest,
    "production-same-as-previous-lesson": reproducible.production_same_as_previous_lesson,
    "dev-edit-served-without-rebuild": devloop.dev_edit_served_without_rebuild,
    "dev-dependency-change-rebuilds": devloop.dev_dependency_change_rebuilds,
    "dev-tests-run-in-container": devloop.dev_tests_run_in_container,
    "dev-runs-as-non-root": devloop.dev_runs_as_non_root,
    "private-index-needs-the-secret": private.private_index_needs_the_secret,
    "credentials-leave-no-trace": private.credentials_leave_no_trace,
    "private-name-only-from-private-index": private.private_name_only_from_private_index,
    "static-collected-at-build": django_site.static_collected_at_build,
    "no-secret-at-build": django_site.no_secret_at_build,
    "migrate-is-a-one-off-job": django_site.migrate_is_a_one_off_job,
}


def run_claim(claim: str, candidate: Candidate) -> Verdict:
    """One claim's verdict on a candidate."""
    return check(claim, CLAIMS[claim], candidate)
