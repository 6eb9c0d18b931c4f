"""Settings are read by their declared parser, once per value, and a value that does not parse names the
setting; there is one reading of yes/no."""

from __future__ import annotations

import pytest

from remediation import settings


def test_each_setting_is_read_by_its_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DQGOV_PORTAL_PORT", "8123")
    monkeypatch.setenv("DQGOV_SESSION_HOURS", "1.5")
    assert settings.port_of("DQGOV_PORTAL_PORT") == 8123
    monkeypatch.setenv("DQGOV_RETRY_DELAY_SECONDS", "60")
    assert settings.integer_of("DQGOV_RETRY_DELAY_SECONDS") == 60
    assert settings.number_of("DQGOV_SESSION_HOURS") == 1.5
    for raw, meant in (
        ("YES", True),
        ("on", True),
        ("1", True),
        ("False", False),
        ("off", False),
        ("", False),
    ):
        monkeypatch.setenv("DQGOV_COOKIE_SECURE", raw)
        assert settings.flag_of("DQGOV_COOKIE_SECURE") is meant


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("DQGOV_PORTAL_PORT", "80a", "DQGOV_PORTAL_PORT='80a' is not a port number"),
        ("DQGOV_PORTAL_PORT", "70000", "DQGOV_PORTAL_PORT='70000' is not a port number"),
        ("DQGOV_RETRY_DELAY_SECONDS", "5m", "DQGOV_RETRY_DELAY_SECONDS='5m' is not a whole number"),
        ("DQGOV_COOKIE_SECURE", "maybe", "DQGOV_COOKIE_SECURE='maybe' is not true or false"),
        ("DQGOV_RUN_LEASE_MINUTES", "soon", "DQGOV_RUN_LEASE_MINUTES='soon' is not a number"),
        ("DQGOV_DB_POOL_SIZE", "0", "DQGOV_DB_POOL_SIZE='0' is not a positive whole number"),
    ],
)
def test_a_value_that_does_not_parse_names_its_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, raw: str, message: str
) -> None:
    monkeypatch.setenv(name, raw)
    reader = {
        settings.integer: settings.integer_of,
        settings.flag: settings.flag_of,
        settings.number: settings.number_of,
        settings.port: settings.port_of,
        settings.positive: settings.positive_of,
    }[settings._BY_NAME[name].parse]
    with pytest.raises(settings.SettingError, match=message):
        reader(name)


def test_a_setting_is_read_only_as_what_it_is() -> None:
    with pytest.raises(TypeError, match="DQGOV_STORE_URL is not read as a whole number"):
        settings.integer_of("DQGOV_STORE_URL")
