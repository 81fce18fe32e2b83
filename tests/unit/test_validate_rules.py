"""The built-in rule tables: they agree with the YAML models, and with an independent resolution."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from otelcli.errors import UsageError
from otelcli.genai.semconv.rules import builtin_raw, load_rules, resolve_name, rules_from_dict

REPO = Path(__file__).resolve().parents[2]
SEMCONV = REPO.parent / "shared" / "reference" / "semconv"


def _needs_reference() -> Path:
    if not SEMCONV.is_dir():
        pytest.skip("../shared/reference/semconv is not present")
    pytest.importorskip("yaml")
    return SEMCONV


def _build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_semconv_rules", REPO / "scripts" / "build_semconv_rules.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_builtin_tables_are_what_the_yaml_models_resolve_to() -> None:
    reference = _needs_reference()
    module = _build_script()
    for name, table in module.build_all(reference).items():
        packaged = (REPO / "otelcli" / "data" / "semconv" / name).read_text("utf-8")
        assert module.render(table) == packaged, (
            f"run python scripts/build_semconv_rules.py ({name})"
        )


def _levels(attributes: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {
        key: (spec["requirement"]["level"], spec["requirement"]["condition"])
        for key, spec in attributes.items()
    }


def test_requirement_levels_match_an_independent_resolution() -> None:
    resolved = json.loads((_needs_reference() / "genai-resolved.json").read_text("utf-8"))
    table = builtin_raw("gen-ai-dev-1.42")
    for ours, theirs in (("spans", "spans"), ("refinements", "span_refinements")):
        assert set(table[ours]) == set(resolved[theirs])
        for name, spec in resolved[theirs].items():
            mine = {
                k: (v["level"], v.get("condition"))
                for k, v in table[ours][name]["attributes"].items()
            }
            assert mine == _levels(spec["attributes"]), name
            if "kind" in spec:
                assert table[ours][name]["kind"] == spec["kind"], name
    for key, spec in {**resolved["attributes"], **resolved["core_attributes_referenced"]}.items():
        if key.startswith("exception."):
            continue  # referenced by events only; validate checks spans
        mine = table["attributes"][key]
        assert mine["type"] == spec["type"], key
        if spec.get("members"):
            assert mine["members"] == [m["value"] for m in spec["members"]], key


def test_registry_dir_at_run_time_gives_the_builtin_span_rules(tmp_path: Path) -> None:
    reference = _needs_reference()
    model = tmp_path / "model"
    shutil.copytree(reference / "genai" / "model", model)
    from otelcli.genai.semconv.rules import load_rules_dir

    loaded = load_rules_dir(str(model))
    builtin = load_rules("gen-ai-dev-1.42")
    assert set(loaded.spans) == set(builtin.spans)
    for name, span in builtin.spans.items():
        assert loaded.spans[name].levels == span.levels, name
    # core attributes and the deprecated lineage come from the built-in table
    assert loaded.attributes["server.port"].type == "int"
    deprecated = loaded.attributes["gen_ai.system"].deprecated
    assert deprecated is not None and deprecated.renamed_to == "gen_ai.provider.name"
    assert set(loaded.schemas) == set(builtin.schemas)


def test_a_newer_registry_change_shows_up_without_a_release(tmp_path: Path) -> None:
    """Edit a copy of the model (a new required attribute on chat spans): the rules follow."""
    reference = _needs_reference()
    model = tmp_path / "model"
    shutil.copytree(reference / "genai" / "model", model)
    spans = model / "gen-ai" / "spans.yaml"
    anchor = (
        "      - ref_group: attributes.gen_ai.common\n"
        "      - ref_group: attributes.gen_ai.address_and_port\n"
        "      - ref_group: attributes.gen_ai.usage\n"
    )
    text = spans.read_text("utf-8")
    assert text.count(anchor) == 1
    added = "      - ref: gen_ai.agent.name\n        requirement_level: required\n"
    spans.write_text(text.replace(anchor, anchor + added), "utf-8")
    from otelcli.genai.semconv.rules import load_rules_dir

    loaded = load_rules_dir(str(model))
    assert "gen_ai.agent.name" in loaded.spans["gen_ai.inference.client"].required
    assert "gen_ai.agent.name" not in load_rules().spans["gen_ai.inference.client"].levels


def test_the_v1_41_table_reflects_the_older_model() -> None:
    old, new = load_rules("v1.41.1"), load_rules()
    assert old.attributes["gen_ai.request.top_k"].type == "double"
    assert new.attributes["gen_ai.request.top_k"].type == "int"
    assert "gen_ai.fetch_response.client" not in old.spans
    assert ("gen_ai.inference.client", "aws.bedrock") in old.refinements
    assert (
        "aws.bedrock.guardrail.id"
        in old.refinements[("gen_ai.inference.client", "aws.bedrock")].levels
    )


def test_operations_span_kinds_and_names_come_from_the_model_notes() -> None:
    rules = load_rules()
    assert [s.name for s in rules.by_operation["chat"]] == ["gen_ai.inference.client"]
    assert {s.name for s in rules.by_operation["invoke_agent"]} == {
        "gen_ai.invoke_agent.client",
        "gen_ai.invoke_agent.internal",
    }
    assert rules.spans["gen_ai.inference.client"].kinds == {"client", "internal"}
    assert (
        rules.spans["gen_ai.execute_tool.internal"].name_template
        == "execute_tool {gen_ai.tool.name}"
    )
    assert set(rules.mcp_spans) == {"client", "server"}
    assert rules.namespaces == ("aws.bedrock.", "gen_ai.", "mcp.", "openai.")


def test_table_names_and_aliases() -> None:
    assert resolve_name("current") == resolve_name("1.42") == "gen-ai-dev-1.42"
    assert resolve_name("1.41.1") == resolve_name("v1.41.1") == "v1.41.1"
    with pytest.raises(UsageError):
        resolve_name("1.99")
    with pytest.raises(UsageError):
        rules_from_dict({"format": 99})


def test_registry_dir_errors_are_usage_errors(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    from otelcli.genai.semconv.rules import load_rules_dir

    with pytest.raises(UsageError):
        load_rules_dir(str(tmp_path / "missing"))
    with pytest.raises(UsageError):
        load_rules_dir(str(tmp_path))  # no YAML files
