"""The WSGI application the server imports (APP = shelf.wsgi:application)."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shelf.settings")

if not os.environ.get("DJANGO_SECRET_KEY"):
    # At import, so the server stops before it serves (gunicorn: "Worker failed to boot"),
    # instead of failing at the first request that signs something.
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is not set: pass it when the container starts")

application = get_wsgi_application()
