"""notes-service: the workspace's other service (not built by the shape's image)."""

from flask import Flask

from calendar_words import weekday_name

app = Flask(__name__)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "today": weekday_name(0)}
