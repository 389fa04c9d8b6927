"""The server's entry point, as many projects keep one: it imports the database driver when the
server starts, so a missing system library stops the server at once, not at the first query."""

import psycopg2  # noqa: F401  (loads libpq.so.5: Debian's libpq5)
from dates_service import app

__all__ = ["app"]
