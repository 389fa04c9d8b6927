"""A one-module Flask service: no package, no pyproject.toml, locks made by pip-compile from
requirements.in, and a Dockerfile of its own. None of the lessons is shaped like it: the
`buildlab adopt` tests write lesson 07 into it and measure both Dockerfiles side by side."""

from flask import Flask

app = Flask(__name__)


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/greeting")
def greeting() -> dict[str, str]:
    return {"greeting": "hello"}
