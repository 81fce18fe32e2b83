"""The `send` sections of data/dialects.json agree with what the same table reads."""

from __future__ import annotations

import pytest

from otelcli.genai.dialects.normalize import load_dialects
from otelcli.genai.scenarios.build import SCOPES
from otelcli.genai.scenarios.catalog import DIALECTS

SENT = [name for name in DIALECTS if name != "semconv"]


@pytest.mark.parametrize("name", SENT)
def test_every_sent_dialect_has_one_entry_and_its_scope_reads_back_as_it(name: str) -> None:
    table = load_dialects()
    dialect = table.for_send(name)
    scope, _ = SCOPES[name]
    assert table.dialect_for_scope(scope) is dialect


def test_vercel_is_sent_under_its_cli_name() -> None:
    assert load_dialects().for_send("vercel").id == "vercel-ai"
    with pytest.raises(KeyError):
        load_dialects().for_send("vercel-ai")


@pytest.mark.parametrize("name", SENT)
def test_preferred_write_keys_are_keys_the_dialect_reads(name: str) -> None:
    table = load_dialects()
    dialect = table.for_send(name)
    variants = dialect.send.get("variants", {})
    preferred = [*dialect.send.get("write", ()), *(k for ks in variants.values() for k in ks)]
    for key in preferred:
        assert key in dialect.renames or key in table.common, (name, key)


@pytest.mark.parametrize("name", SENT)
def test_every_key_the_reverse_lookup_gives_reads_back_as_its_semconv_key(name: str) -> None:
    table = load_dialects()
    dialect = table.for_send(name)
    variants = [None, *dialect.send.get("variants", {})]
    targets = {r.target for r in [*dialect.renames.values(), *table.common.values()]}
    checked = 0
    for target in sorted(targets):
        for variant in variants:
            try:
                key = table.write_key(dialect, target, variant)
            except ValueError:
                continue  # several keys and no preference: the writer never asks
            if key is None or key == target:
                continue
            normalized = table.normalize({key: 1}, dialect=dialect.id)
            assert normalized.renamed == {key: target}, (name, target, variant)
            checked += 1
    assert checked


def test_vercel_model_call_ids_are_operations_the_reader_knows() -> None:
    dialect = load_dialects().for_send("vercel")
    assert dialect.operation is not None
    values = dialect.operation.values
    for call, expected in (("generate", "chat"), ("stream", "chat"), ("embed", "embeddings")):
        ids = dialect.send["model_calls"][call]
        assert values[ids["inner"]] == expected
        assert ids["outer"] in values


def test_operation_values_are_the_reverse_of_the_reading_rule() -> None:
    table = load_dialects()
    oi = table.for_send("openinference").operation
    assert oi is not None
    assert table.operation_value(oi, "chat") == "LLM"
    assert table.operation_value(oi, "generate_content") == "LLM"  # same type as chat
    assert table.operation_value(oi, "invoke_workflow") == "CHAIN"
    fallback = table.for_send("openllmetry").operation_fallback
    assert fallback is not None
    assert table.operation_value(fallback, "execute_task") == "task"
    assert table.operation_value(fallback, "retrieval") is None
