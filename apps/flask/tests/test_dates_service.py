from datetime import date

import pytest

from dates_service import calendar, create_app


@pytest.fixture()
def client():  # type: ignore[no-untyped-def]
    return create_app().test_client()


def test_health(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_age_counts_leap_day_birthdays(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/age?birthdate=2000-02-29&on=2024-02-28")
    assert response.get_json() == {"years": 23, "months": 11, "days": 30}


def test_add_clamps_to_month_end(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/add?date=2024-01-31&months=1")
    assert response.get_json() == {"date": "2024-02-29"}


def test_bad_date_is_a_400(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/age?birthdate=yesterday-ish")
    assert response.status_code == 400
    assert "not a date" in response.get_json()["error"]


def test_missing_parameter_is_a_400(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/add").status_code == 400


def test_parse_date_accepts_words() -> None:
    assert calendar.parse_date("29 Feb 2024") == date(2024, 2, 29)


def test_age_rejects_future() -> None:
    with pytest.raises(ValueError):
        calendar.age(date(2100, 1, 1), date(2000, 1, 1))
