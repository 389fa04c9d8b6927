"""buildlab: the tooling behind the course (manifest, test engine, builds, locks, demo)."""
