"""The test engine: Docker builds, images and containers, base images, a local registry, a
private package index, Compose, a browser; `doctor` sets them up."""
