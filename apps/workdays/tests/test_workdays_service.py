import pytest

from workdays_service import create_app


@pytest.fixture()
def client():  # type: ignore[no-untyped-def]
    return create_app().test_client()


def test_health(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/health").get_json() == {"status": "ok"}


def test_christmas_week_skips_the_holidays(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/workdays?from=2024-12-23&to=2025-01-03").get_json()
    assert body["workdays"] == 7
    assert list(body["holidays"]) == ["2024-12-25", "2024-12-26", "2025-01-01"]


def test_easter_moves_with_the_year(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/workdays?from=2025-04-14&to=2025-04-25").get_json()
    assert body["holidays"] == {"2025-04-18": "Good Friday", "2025-04-21": "Easter Monday"}


def test_bad_dates_are_a_400(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/workdays?from=2025-01-02&to=2025-01-01").status_code == 400
    assert client.get("/api/workdays?from=soon&to=2025-01-01").status_code == 400
