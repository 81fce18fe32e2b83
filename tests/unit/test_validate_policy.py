"""Policy files: where they are found, what they may say, and how selectors apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from otelcli.errors import ConfigError
from otelcli.genai.semconv.findings import RULES
from otelcli.genai.semconv.policy import find_config, load_policy


def test_otelcli_toml_validate_table(tmp_path: Path) -> None:
    (tmp_path / "otelcli.toml").write_text(
        """
[validate]
fail_on = "improvement"
semconv = "1.41.1"
ignore = ["opt_in_attribute_missing"]
[validate.levels]
span_name = "violation"
"recommended_attribute_missing:gen_ai.request.*" = "off"
[validate.require]
chat = ["user.id"]
"*" = ["service.version"]
"""
    )
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    policy = load_policy(None, nested, RULES)
    assert policy.source == str(tmp_path / "otelcli.toml")
    assert policy.fail_on == "improvement" and policy.semconv == "1.41.1"
    assert policy.level_for("opt_in_attribute_missing", "information", "x") is None
    assert policy.level_for("span_name", "improvement", None) == "violation"
    assert (
        policy.level_for("recommended_attribute_missing", "improvement", "gen_ai.request.top_p")
        is None
    )
    assert (
        policy.level_for("recommended_attribute_missing", "improvement", "server.port")
        == "improvement"
    )
    assert policy.required_for("gen_ai.inference.client", "chat") == ("service.version", "user.id")


def test_pyproject_tool_table_and_the_project_root_stops_the_search(tmp_path: Path) -> None:
    (tmp_path / "otelcli.toml").write_text('[validate]\nfail_on = "information"\n')
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_config(project) is None  # a pyproject without the table ends the search
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.otelcli.validate]\nfail_on = "none"\n'
    )
    assert load_policy(None, project, RULES).fail_on == "none"


def test_explicit_config_and_registry_path_relative_to_it(tmp_path: Path) -> None:
    config = tmp_path / "ci.toml"
    config.write_text('[validate]\nregistry = "model"\n')
    policy = load_policy(str(config), tmp_path / "elsewhere", RULES)
    assert policy.registry == str(tmp_path / "model")


@pytest.mark.parametrize(
    "body",
    [
        '[validate]\nfail_on = "loud"\n',
        '[validate]\nignore = "span_name"\n',
        '[validate]\nignore = ["no_such_rule"]\n',
        '[validate.levels]\nspan_name = "critical"\n',
        '[validate]\ncolour = "red"\n',
        "[validate\n",
        "[other]\nx = 1\n",
    ],
)
def test_bad_policies_are_config_errors(tmp_path: Path, body: str) -> None:
    config = tmp_path / "otelcli.toml"
    config.write_text(body)
    with pytest.raises(ConfigError):
        load_policy(str(config), tmp_path, RULES)


def test_no_policy_anywhere_is_the_default(tmp_path: Path) -> None:
    policy = load_policy(None, tmp_path, RULES)
    assert (
        policy.source is None
        and policy.level_for("span_name", "improvement", None) == "improvement"
    )
