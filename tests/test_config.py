"""Settings: the environment is read in one place, and a variable that sets nothing is reported."""
import logging

from common import config


def test_settings_come_from_the_environment_with_casts():
    s = config.load(environ={"KBTRIAGE_ROUTE_PRECISION": "0.99", "KBTRIAGE_REQUIRE_API_KEY": "yes",
                             "DATABASE_URL": "postgresql://db/x"})
    assert (s.route_precision, s.require_api_key, s.resolved_database_url()) == (0.99, True, "postgresql://db/x")


def test_a_variable_that_is_no_setting_is_named_in_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="kbtriage.config"):
        s = config.load(environ={"KBTRIAGE_ROUTE_MIN_CONFIDENCE": "0.5", "KBTRIAGE_PORT": "9000"})
    assert s.port == 9000
    assert not hasattr(s, "route_min_confidence")
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 1 and "KBTRIAGE_ROUTE_MIN_CONFIDENCE is not a kb-triage setting" in warned[0]
