import os

import django
import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shelf.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only")
django.setup()

from django.test import Client  # noqa: E402

# WhiteNoise warns that STATIC_ROOT does not exist: the image collects it at build, a checkout
# has none (and these tests request no static file).
pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")


@pytest.fixture()
def client() -> Client:
    return Client()


def test_health(client: Client) -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_slug(client: Client) -> None:
    body = client.get("/api/slug", {"title": "Two Scoops of Django 5.2!"}).json()
    assert body == {"title": "Two Scoops of Django 5.2!", "slug": "two-scoops-of-django-52"}


def test_slug_needs_a_title(client: Client) -> None:
    assert client.get("/api/slug").status_code == 400
