# Thin on purpose: every target runs one script or one buildlab command. Logic lives in
# scripts/cli (a small typed package); scripts/bootstrap creates .venv from pins.toml.
.PHONY: demo measure site test doctor list sync relock check-locks docs lint clean

demo:          ## The main job: set up, measure every lesson for one tool, print the table, charts
	scripts/demo

measure:       ## The full benchmark (the longest command): rewrites docs/results/ and the docs' results tables
	scripts/measure

site:          ## The docs site (mkdocs, strict) into .buildlab/site
	scripts/cli site

test:          ## Set up, then run every test (fast tier and Docker tier)
	scripts/test

doctor:        ## A working Docker engine and the pinned base images (installs on Debian as root)
	scripts/cli doctor --fix

list:          ## Lessons, variants and claims from lessons.toml
	scripts/cli list

sync:          ## Copy apps/ into every variant folder
	scripts/cli sync

relock:        ## Regenerate every lock file inside its lesson's base image
	scripts/cli relock

check-locks:   ## Is every lock fresh, by its own tool's check?
	scripts/cli check-locks

lint:          ## hadolint on every lesson Dockerfile
	scripts/cli lint

clean:         ## Remove every container and image buildlab labelled
	scripts/cli clean

docs:          ## Regenerate the generated blocks (diffs, claims, results) and the charts
	scripts/cli docs
