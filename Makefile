# Thin on purpose: every target runs one script or one buildlab command. Logic lives in
# scripts/cli (a small typed package); scripts/bootstrap creates .venv from pins.toml.
.PHONY: help demo measure site check test doctor list sync relock check-locks docs lint clean adopt dev exercise check-lesson progress

help:          ## This list (a bare `make` prints it and installs nothing)
	@grep -E '^[a-z-]+: +##' $(MAKEFILE_LIST) | sed -E 's/: +## /\t/' | expand -t 16

demo:          ## The main job: set up, measure every lesson for one tool, print the table, charts
	scripts/demo

measure:       ## The full benchmark (the longest command): rewrites docs/results/ and the docs' results tables
	scripts/measure

site:          ## The docs site (mkdocs, strict) into .buildlab/site
	scripts/cli site

check:         ## The fast tier only (no Docker): manifest, lint, types, generated docs; seconds
	scripts/check

test:          ## Set up, then run every test: the fast tier first, then the Docker tier
	scripts/test

doctor:        ## A Docker engine, the pinned base images, a local registry, a private package index (installs on Debian as root)
	scripts/cli doctor --fix

list:          ## Lessons, tools, claims and peers from lessons.toml
	scripts/cli list

sync:          ## Copy the primary app into every lesson folder
	scripts/cli sync

relock:        ## Regenerate every lock file inside its lesson's base image
	scripts/cli relock

check-locks:   ## Is every lock fresh, by its own tool's check?
	scripts/cli check-locks

lint:          ## hadolint on every lesson Dockerfile
	scripts/cli lint

clean:         ## Remove every container and image buildlab labelled; empty the local registry; stop the private index
	scripts/cli clean

adopt:         ## Lesson 07 in your project, proven there: make adopt PROJECT=path/to/project
	scripts/cli adopt "$(PROJECT)"

docs:          ## Regenerate the generated blocks (diffs, claims, results) and the charts
	scripts/cli docs

dev:           ## Lesson 09's development loop for one tool: make dev TOOL=uv (Ctrl-C stops it)
	scripts/cli dev 09 "$(or $(TOOL),uv)"

exercise:      ## Your turn: make exercises/LESSON/TOOL and print the task: make exercise LESSON=05 TOOL=uv [FORCE=1]
	scripts/cli exercise "$(LESSON)" "$(or $(TOOL),uv)" $(if $(FORCE),--force)

check-lesson:  ## Check your Dockerfile against a lesson's claims: make check-lesson LESSON=05 TOOL=uv [DIR=...]
	scripts/cli check "$(LESSON)" "$(or $(TOOL),uv)" $(DIR)

progress:      ## Your exercises, lesson by lesson and tool by tool, from each last check
	scripts/cli progress
