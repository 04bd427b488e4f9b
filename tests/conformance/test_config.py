"""The conformance config: demo defaults, the documented example file, env variables, clear errors."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from harness.conformance.config import ConfigError, ConformConfig, load_config, parse_config
from harness.conformance.ekool.config import EkoolConfig
from harness.conformance.sunbird.config import GatewayCredential, SunbirdConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "conformance.example.toml"


def test_defaults_are_the_demo_credentials():
    config = load_config(None)
    assert config.sunbird.credentials["mobile_app"] == GatewayCredential("mobile_app_key", "mobile_app_secret")
    assert set(config.sunbird.credentials) == {"mobile_admin", "mobile_app", "desktop_app", "portal"}
    assert (config.ekool.client_id, config.ekool.username) == ("ekooldemoclient00000000000000001", "mari")
    assert config.ekool.login_base(config.target) == config.ekool.api_base(config.target) == "http://127.0.0.1:8000"


def test_example_file_parses_to_the_defaults_and_documents_every_setting():
    assert load_config(EXAMPLE) == ConformConfig()
    text = EXAMPLE.read_text()
    for cls in (ConformConfig, SunbirdConfig, EkoolConfig):
        for field in fields(cls):
            if field.name == "sections":  # the API tables themselves
                continue
            assert field.name in text, f"{cls.__name__}.{field.name} is not documented in the example"


def test_values_expand_environment_variables_and_override(monkeypatch, tmp_path):
    monkeypatch.setenv("EK_SECRET", "from-env")
    path = tmp_path / "c.toml"
    path.write_text('target = "https://x.example"\n[ekool]\nclient_secret = "${EK_SECRET}"\napi_url = "https://api.x"\n'
                    '[sunbird.credentials.mobile_app]\nkey = "k"\nsecret = "s"\n')
    config = load_config(path).with_overrides(max_examples=3, seed=None)
    assert config.ekool.client_secret == "from-env"
    assert config.ekool.api_base(config.target) == "https://api.x"
    assert config.ekool.login_base(config.target) == "https://x.example"
    assert config.sunbird.credentials == {"mobile_app": GatewayCredential("k", "s")}
    assert config.max_examples == 3 and config.seed is None


@pytest.mark.parametrize(("text", "needle"), [
    ("colour = 1", "colour"),
    ("[ekool]\nclient = 'x'", "client"),
    ("[sunbird.credentials.portal]\nkey = 'x'", "key` and `secret"),
    ("target = ", "not valid TOML"),
    ("profile = 'strict'", "profile must be one of default, rfc"),
    ("workers = 0", "workers must be a positive integer, not 0"),
    ("workers = 'auto'", "workers must be a positive integer, not 'auto'"),
    ("workers = true", "workers must be a positive integer, not True"),
])
def test_bad_files_get_a_clear_error(tmp_path, text, needle):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=needle.replace("`", ".")):
        load_config(path)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")


def test_tuples_stay_tuples():
    config = parse_config({"apis": ["ekool"], "ekool": {"scopes": ["users-basic"]}})
    assert config.apis == ("ekool",) and config.ekool.scopes == ("users-basic",)
