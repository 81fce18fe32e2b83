"""The pricing table: model matching, validity dates, tiers, user files, genai-prices agreement."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from otelcli.errors import ConfigError
from otelcli.genai.pricing import fallback as prices_fallback
from otelcli.genai.pricing.cost import Usage as CostUsage
from otelcli.genai.pricing.cost import cost_of, price_call
from otelcli.genai.pricing.table import (
    PriceTable,
    Resolution,
    load_builtin_table,
    load_pricing_file,
    load_table,
    name_candidates,
    parse_table,
)

REFERENCE = Path(__file__).resolve().parents[2] / "../shared/reference"
MTOK = 1_000_000


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 10**9)


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return load_builtin_table()


def usd(table: PriceTable, model: str, provider: str | None = None, **kw: Any) -> dict[str, Any]:
    resolution = table.resolve(model, provider)
    assert resolution is not None, f"{model} ({provider}) did not resolve"
    found = resolution.entry.rates_at(kw.get("at", ts("2026-11-01T12:00:00")), kw.get("n", 0))
    assert found is not None
    return {"id": resolution.entry.entry_id, **found[0].usd()}


def test_table_is_large_and_covers_the_required_providers(table: PriceTable) -> None:
    providers = {e.provider for e in table.entries}
    assert {
        "openai",
        "anthropic",
        "google",
        "aws",
        "azure",
        "mistral",
        "deepseek",
        "x-ai",
        "groq",
        "cohere",
        "together",
        "fireworks",
    } <= providers
    assert len(table) >= 500


@pytest.mark.parametrize(
    ("model", "provider", "entry_id"),
    [
        ("gpt-4o", None, "openai/gpt-4o"),
        ("gpt-4o-2024-08-06", "openai", "openai/gpt-4o"),
        ("gpt-4o-2024-05-13", "openai", "openai/gpt-4o-2024-05-13"),  # own, higher price
        ("openai/gpt-4o", None, "openai/gpt-4o"),
        ("GPT-4o", "openai", "openai/gpt-4o"),
        ("models/gemini-2.5-pro", "gcp.gemini", "google/gemini-2.5-pro"),
        ("gemini-2.5-pro", "gcp.vertex_ai", "google/gemini-2.5-pro"),
        ("claude-sonnet-4@20250514", "gcp.vertex_ai", "google/claude-4-sonnet"),
        ("claude-sonnet-4-20250514", "anthropic", "anthropic/claude-sonnet-4-0"),
        ("gpt-4o-2024-08-06", "azure.ai.openai", "openai/gpt-4o"),  # Azure falls back to OpenAI
        ("gpt-5.2-20251211", None, "openai/gpt-5.2"),  # compact LiteLLM date
        ("llama-3.3-70b-versatile", "groq", "groq/llama-3.3-70b-versatile"),
        ("mistral-large-2411", "mistral_ai", "mistral/mistral-large"),
        ("mistral-large-2512", "mistral_ai", "mistral/mistral-large-2512"),
    ],
)
def test_model_matching(table: PriceTable, model: str, provider: str | None, entry_id: str) -> None:
    resolution = table.resolve(model, provider)
    assert resolution is not None
    assert resolution.entry.entry_id == entry_id


@pytest.mark.parametrize("prefix", ["", "us.", "eu.", "apac.", "global."])
def test_bedrock_ids_with_cross_region_prefixes(table: PriceTable, prefix: str) -> None:
    model = f"{prefix}anthropic.claude-sonnet-4-20250514-v1:0"
    resolution = table.resolve(model, "aws.bedrock")
    assert resolution is not None and resolution.entry.provider == "aws"
    rates = resolution.entry.current_period().rates.usd()
    assert (rates["input"], rates["output"]) == (Decimal(3), Decimal(15))


def test_bedrock_id_without_provider_goes_to_bedrock(table: PriceTable) -> None:
    resolution = table.resolve("anthropic.claude-3-5-sonnet-20240620-v1:0")
    assert resolution is not None and resolution.entry.provider == "aws"


def test_azure_deployment_names_are_unknown_not_zero(table: PriceTable) -> None:
    assert table.resolve("prod-gpt4o-deployment", "azure.ai.openai") is None
    quick = price_call(table, "prod-gpt4o-deployment", 100, 10, provider="azure.ai.openai")
    assert quick.unknown and quick.total_usd is None


def test_fine_tunes_are_not_priced_as_the_base_model(table: PriceTable) -> None:
    base = usd(table, "gpt-4o-mini", "openai")
    resolution = table.resolve("ft:gpt-4o-mini-2024-07-18:acme::abc123", "openai")
    if resolution is not None:
        assert resolution.entry.entry_id != base["id"]
    assert "gpt-4o-mini-2024-07-18" not in name_candidates("ft:gpt-4o-mini-2024-07-18:acme::x")


def test_exact_name_is_tried_before_any_stripping() -> None:
    candidates = name_candidates("openai/gpt-4o-2024-05-13")
    assert candidates[0] == "openai/gpt-4o-2024-05-13"
    assert candidates.index("gpt-4o-2024-05-13") < candidates.index("gpt-4o")


def test_validity_dates_price_a_span_at_its_day(table: PriceTable) -> None:
    before = usd(table, "o3", "openai", at=ts("2025-06-01T12:00:00"))
    after = usd(table, "o3", "openai", at=ts("2025-06-11T12:00:00"))
    assert (before["input"], before["output"]) == (Decimal(10), Decimal(40))
    assert (after["input"], after["output"]) == (Decimal(2), Decimal(8))


def test_daily_windows(table: PriceTable) -> None:
    # DeepSeek's 2025 scheme: standard price 00:30-16:30 UTC, off-peak otherwise
    peak = usd(table, "deepseek-chat", "deepseek", at=ts("2025-07-01T10:00:00"))
    off_peak = usd(table, "deepseek-chat", "deepseek", at=ts("2025-07-01T20:00:00"))
    assert peak["input"] == 2 * off_peak["input"]


def test_long_context_tier_is_a_cliff_per_request(table: PriceTable) -> None:
    below = price_call(table, "gemini-2.5-pro", 200_000, 1_000, provider="gcp.gemini")
    above = price_call(table, "gemini-2.5-pro", 200_001, 1_000, provider="gcp.gemini")
    assert below.tier_above is None and above.tier_above == 200_000
    assert below.total_usd == Decimal("0.26")  # 0.2M x 1.25 + 1k x 10 / 1M
    assert above.total_usd == Decimal("0.5150025")  # every token at 2.5 / 15


def test_find_lists_entries_by_glob_and_substring(table: PriceTable) -> None:
    ids = {e.entry_id for e in table.find("gpt-4o*")}
    assert "openai/gpt-4o" in ids and "openai/gpt-4o-mini" in ids
    assert all(
        "claude" in e.entry_id.lower() or "claude" in e.name.lower() for e in table.find("claude")
    )


# --- user pricing files --------------------------------------------------------------------


def test_toml_file_overrides_and_extends(tmp_path: Path) -> None:
    file = tmp_path / "prices.toml"
    file.write_text(
        '[[models]]\nmatch = "gpt-4o"\ninput = 1\noutput = 2\ncache_read = 0.5\n\n'
        '[[models]]\nmatch = "acme-*"\nprovider = "openai"\ninput = 3\noutput = 4\n'
        "[[models.tiers]]\nabove_input_tokens = 1000\ninput = 6\noutput = 8\n"
    )
    table = load_table(file, use_fallback=False)
    assert price_call(table, "gpt-4o", MTOK, MTOK).total_usd == Decimal(3)
    assert price_call(table, "acme-small", MTOK, 0, provider="openai").total_usd == Decimal(6)
    assert price_call(table, "acme-small", 500, 0, provider="openai").total_usd == Decimal("0.0015")
    # scoped to openai: another provider does not match it
    assert price_call(table, "acme-small", 10, 10, provider="anthropic").unknown
    assert price_call(table, "gpt-4o-mini", MTOK, 0).total_usd == Decimal("0.15")  # builtin


def test_json_file_with_validity_window_falls_back_outside_it(tmp_path: Path) -> None:
    file = tmp_path / "prices.json"
    file.write_text(
        json.dumps(
            {
                "models": [
                    {
                        "match": "gpt-4o",
                        "input": 100,
                        "output": 100,
                        "valid_from": "2025-01-01",
                        "valid_to": "2025-01-31",
                    }
                ]
            }
        )
    )
    table = load_table(file, use_fallback=False)
    inside = price_call(table, "gpt-4o", MTOK, 0, at=datetime(2025, 1, 31, 23, tzinfo=UTC))
    outside = price_call(table, "gpt-4o", MTOK, 0, at=datetime(2025, 2, 1, 1, tzinfo=UTC))
    assert inside.total_usd == Decimal(100) and inside.price_source == "user:prices.json"
    assert outside.total_usd == Decimal("2.5") and outside.price_source == "builtin"


def test_litellm_model_prices_json(tmp_path: Path) -> None:
    file = tmp_path / "model_prices_and_context_window.json"
    file.write_text(
        json.dumps(
            {
                "sample_spec": {"input_cost_per_token": 0},
                "my-model": {
                    "litellm_provider": "openai",
                    "input_cost_per_token": 1.9999999999999998e-07,
                    "output_cost_per_token": 8e-07,
                    "cache_read_input_token_cost": 5e-08,
                    "input_cost_per_token_above_200k_tokens": 4e-07,
                },
                "gemini/gemini-x": {
                    "litellm_provider": "gemini",
                    "input_cost_per_token": 1e-06,
                    "output_cost_per_token": 2e-06,
                },
            }
        )
    )
    entries = load_pricing_file(file)
    assert len(entries) == 2
    table = load_table(file, use_fallback=False)
    quick = price_call(table, "my-model", 100_000, MTOK, cached_tokens=50_000)
    # 50k uncached x 0.2 + 50k cached x 0.05 + 1M out x 0.8 (float noise rounded away)
    assert quick.total_usd == Decimal("0.01") + Decimal("0.0025") + Decimal("0.8")
    assert price_call(table, "my-model", 300_000, 0).total_usd == Decimal("0.12")  # tier
    assert price_call(table, "gemini-x", MTOK, 0).total_usd == Decimal(1)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("bad.toml", "[[models]]\nmatch = \n"),
        ("bad.json", '{"models": [{"match": "x"}]}'),
        ("bad2.json", '{"models": [{"match": "x", "input": "cheap", "output": 1}]}'),
        ("bad3.json", '{"something": 1}'),
    ],
)
def test_bad_pricing_files_raise_config_errors(tmp_path: Path, name: str, text: str) -> None:
    file = tmp_path / name
    file.write_text(text)
    with pytest.raises(ConfigError):
        load_pricing_file(file)


def test_missing_pricing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_pricing_file(tmp_path / "nope.toml")


def test_tiny_table_from_the_documented_schema() -> None:
    table = parse_table(
        {
            "providers": [{"id": "p"}],
            "models": [
                {
                    "provider": "p",
                    "id": "m",
                    "match": {"starts_with": "m-"},
                    "prices": [
                        {"input": "1", "output": "2"},
                        {"from": "2030-01-01", "input": "9", "output": "9"},
                    ],
                }
            ],
        }
    )
    assert price_call(table, "m-1", MTOK, MTOK, at=datetime(2029, 1, 1, tzinfo=UTC)).total_usd == 3
    assert price_call(table, "m-1", MTOK, 0, at=datetime(2030, 1, 2, tzinfo=UTC)).total_usd == 9


# --- the genai-prices fallback -------------------------------------------------------------


def test_fallback_is_consulted_once_per_model() -> None:
    calls: list[tuple[str, str | None]] = []

    def lookup(model: str, provider: str | None) -> dict[str, Any] | None:
        calls.append((model, provider))
        if model != "exotic-model":
            return None
        return {
            "provider": "elsewhere",
            "id": "exotic",
            "match": {"equals": "exotic-model"},
            "prices": [{"input": "1", "output": "1"}],
        }

    table = load_builtin_table().with_fallback(lookup)
    for _ in range(3):
        quick = price_call(table, "exotic-model", MTOK, 0)
        assert quick.price_source == "genai-prices" and quick.total_usd == 1
    assert calls == [("exotic-model", None)]
    assert price_call(table, "gpt-4o", 1, 1).price_source == "builtin"  # table first


def test_fallback_absent_without_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prices_fallback, "available", lambda: False)
    assert prices_fallback.make_fallback() is None
    assert load_table().fallback is None


def test_fallback_with_genai_prices_installed() -> None:
    genai_prices = pytest.importorskip("genai_prices")
    from genai_prices.data import providers

    table = load_builtin_table()
    missing = next(
        m.match.equals
        for p in providers
        if p.id == "openrouter"
        for m in p.models
        if hasattr(m.match, "equals")
        and table.resolve(m.match.equals) is None
        and not isinstance(m.prices, list)
        and m.prices.input_mtok
        and m.prices.output_mtok
    )
    with_fallback = load_table()
    assert with_fallback.fallback is not None
    quick = price_call(with_fallback, missing, 1000, 2000, at=datetime(2026, 1, 1, tzinfo=UTC))
    assert quick.price_source == "genai-prices"
    theirs = genai_prices.calc_price(
        genai_prices.Usage(input_tokens=1000, output_tokens=2000),
        missing,
        provider_id="openrouter",
        genai_request_timestamp=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert quick.total_usd == theirs.total_price
    assert prices_fallback.make_fallback()("definitely-not-a-model-xyz", None) is None  # type: ignore[misc]


# --- reference prices ----------------------------------------------------------------------

PROVIDER_OF_CSV = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "gcp.gemini",
    "mistral": "mistral_ai",
    "groq": "groq",
    "deepseek": "deepseek",
}


def consensus_rows() -> list[dict[str, str]]:
    path = REFERENCE / "pricing-reference.csv"
    if not path.exists():
        return []
    with path.open() as handle:
        return [r for r in csv.DictReader(handle) if r["source"] == "consensus"]


def test_consensus_prices_of_the_reference_table(table: PriceTable) -> None:
    rows = consensus_rows()
    if not rows:
        pytest.skip("shared reference material is not available")
    checked = 0
    for row in rows:
        if not row["input_per_mtok"] or "do not use as a check value" in row["notes"]:
            continue
        label = row["model"]
        model = label.split(" (")[0]
        at = ts("2026-11-01T12:00:00")
        n = 1000
        if (tier := re.search(r">(\d+)k input", label)) is not None:
            n = int(tier.group(1)) * 1000 + 1
        if (before := re.search(r"before (\d{4}-\d\d-\d\d)", label)) is not None:
            at = ts(before.group(1) + "T00:00:00") - 10**9
        got = usd(table, model, PROVIDER_OF_CSV[row["provider"]], at=at, n=n)
        expected = {
            "input": row["input_per_mtok"],
            "output": row["output_per_mtok"],
            "cache_read": row["cached_input_per_mtok"],
            "cache_write": row["cache_write_per_mtok"],
        }
        for key, value in expected.items():
            if value:
                assert got.get(key) == Decimal(value), (label, key, got)
        checked += 1
    assert checked >= 25


# --- agreement with genai-prices -----------------------------------------------------------


def test_every_shared_model_agrees_with_genai_prices(table: PriceTable) -> None:
    pytest.importorskip("genai_prices")
    from genai_prices import Usage
    from genai_prices.data import providers
    from genai_prices.types import ModelPrice

    known = {(p.id, m.id): (p, m) for p in providers for m in p.models}
    usages = [
        {"input_tokens": 1_234_567, "output_tokens": 345_678},
        {
            "input_tokens": 50_000,
            "cache_read_tokens": 20_000,
            "cache_write_tokens": 5_000,
            "output_tokens": 7_000,
        },
        {"input_tokens": 300_001, "cache_read_tokens": 100_000, "output_tokens": 1_000},
    ]
    moments = [
        datetime(2025, 3, 1, 3, tzinfo=UTC),
        datetime(2025, 7, 1, 20, tzinfo=UTC),
        datetime(2026, 11, 20, 12, tzinfo=UTC),
    ]
    compared = 0
    for entry in table.entries:
        if entry.note:
            continue  # the project's own corrections differ on purpose
        pair = known.get((entry.provider, entry.model_id))
        if pair is None:
            continue
        _, model = pair
        for raw in usages:
            for moment in moments:
                # token prices only: per-request and search fees are outside this table
                prices = model.get_prices(moment)
                tokens_only = ModelPrice(
                    **{
                        k: getattr(prices, k)
                        for k in prices_fallback.PRICE_KEYS
                        if getattr(prices, k, None) is not None
                    }
                )
                theirs = tokens_only.calc_price(Usage(**raw))
                usage = CostUsage(
                    input_tokens=raw["input_tokens"],
                    output_tokens=raw["output_tokens"],
                    cache_read_tokens=raw.get("cache_read_tokens", 0),
                    cache_write_tokens=raw.get("cache_write_tokens", 0),
                )
                ours = cost_of(
                    Resolution((entry,), entry.model_id, None, False),
                    usage,
                    model=entry.model_id,
                    ts_ns=int(moment.timestamp() * 10**9),
                )
                assert ours.total_usd is not None, entry.entry_id
                assert abs(ours.total_usd - theirs["total_price"]) < Decimal("0.000001"), (
                    entry.entry_id,
                    raw,
                    moment,
                    ours.total_usd,
                    theirs["total_price"],
                )
        compared += 1
    assert compared >= 500


def test_shipped_table_matches_the_refresh_script() -> None:
    genai_prices = pytest.importorskip("genai_prices")
    shipped = json.loads(
        (Path(__file__).resolve().parents[2] / "otelcli/data/prices.json").read_text()
    )
    if genai_prices.__version__ not in shipped["source"]:
        pytest.skip("installed genai-prices differs from the one the table was built from")
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "refresh_prices", Path(__file__).resolve().parents[2] / "scripts/refresh_prices.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build()
    assert built["models"] == shipped["models"]
    assert built["providers"] == shipped["providers"]


def test_service_tier_prices_follow_their_start_dates_in_any_file_order() -> None:
    flex = [
        {"service_tier": "flex", "from": "2026-10-14", "input": "1", "output": "5"},
        {"service_tier": "flex", "from": "2026-12-01", "input": "2", "output": "10"},
    ]
    for variants in (flex, flex[::-1]):
        entry = parse_table(
            {
                "models": [
                    {
                        "provider": "google",
                        "id": "m",
                        "match": {"equals": "m"},
                        "prices": [{"input": "4", "output": "20"}],
                        "service_tiers": variants,
                    }
                ]
            }
        ).entries[0]
        at = {
            d: entry.rates_at(ts(d), 0, "flex") for d in ("2026-10-01", "2026-11-01", "2026-12-05")
        }
        inputs = {d: str(found[0].usd()["input"]) for d, found in at.items() if found}
        assert inputs == {"2026-10-01": "4", "2026-11-01": "1", "2026-12-05": "2"}
