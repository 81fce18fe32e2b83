"""Optional fallback to the genai-prices package (`pip install otelcli[prices]`).

Only for models the built-in table does not know. genai-prices is imported on the first miss,
each (model, provider) is looked up once (PriceTable caches the resolution), and the price is
converted into this project's table format so the arithmetic stays ours. Without the extra
installed, `make_fallback()` returns None and unknown models stay unknown.

The converters below are also what scripts/refresh_prices.py uses to write prices.json.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from datetime import time
from decimal import Decimal
from typing import Any

PRICE_KEYS = {
    "input_mtok": "input",
    "output_mtok": "output",
    "cache_read_mtok": "cache_read",
    "cache_write_mtok": "cache_write",
    "cache_write_1h_mtok": "cache_write_1h",
    "output_reasoning_mtok": "reasoning",
}

# OTel provider names that genai-prices cannot resolve by itself, mapped to its ids.
_GENAI_PRICES_IDS = {"x_ai": "x-ai", "azure.ai.inference": "azure", "gcp.gen_ai": "google"}

FallbackLookup = Callable[[str, "str | None"], "dict[str, Any] | None"]


def dec(value: Decimal) -> str:
    return format(value.normalize(), "f")


def clause(match: Any) -> dict[str, Any]:
    """A genai-prices match clause -> the plain JSON clause the table uses."""
    name = type(match).__name__
    if name == "ClauseOr":
        return {"or": [clause(c) for c in match.or_]}
    if name == "ClauseAnd":
        return {"and": [clause(c) for c in match.and_]}
    for field in ("equals", "starts_with", "ends_with", "contains", "regex"):
        if hasattr(match, field):
            return {field: getattr(match, field)}
    raise ValueError(f"unknown clause {match!r}")


def price_set(model_price: Any) -> dict[str, Any] | None:
    """One genai-prices ModelPrice -> {input, output, ..., tiers}; None without token prices."""
    base: dict[str, Any] = {}
    tiered: dict[str, Any] = {}
    for key, ours in PRICE_KEYS.items():
        value = getattr(model_price, key, None)
        if value is None:
            continue
        if hasattr(value, "tiers"):  # TieredPrices
            base[ours] = dec(value.base)
            tiered[ours] = value
        else:
            base[ours] = dec(value)
    if "input" not in base and "output" not in base:
        return None
    if tiered:
        # genai-prices tiers each key separately; the table keeps one row per threshold.
        starts = sorted({t.start for v in tiered.values() for t in v.tiers})
        tiers = []
        for start in starts:
            tier: dict[str, Any] = {"above": start}
            for ours, value in tiered.items():
                applicable = [t for t in value.tiers if t.start <= start]
                if applicable:
                    tier[ours] = dec(applicable[-1].price)
            tiers.append(tier)
        base["tiers"] = tiers
    return base


def constraint(c: Any) -> dict[str, Any]:
    if c is None:
        return {}
    if hasattr(c, "start_date"):
        return {"from": c.start_date.isoformat()}
    start: time = c.start_time
    end: time = c.end_time
    return {"daily": [start.strftime("%H:%M"), end.strftime("%H:%M")]}


def model_entry(provider_id: str, model: Any) -> dict[str, Any] | None:
    """A genai-prices ModelInfo -> one model entry of prices.json (None if not token-priced)."""
    periods: list[dict[str, Any]] = []
    if isinstance(model.prices, list):
        for conditional in model.prices:
            prices = price_set(conditional.prices)
            if prices is None:
                return None
            periods.append({**constraint(conditional.constraint), **prices})
    else:
        prices = price_set(model.prices)
        if prices is None:
            return None
        periods.append(prices)
    entry: dict[str, Any] = {
        "provider": provider_id,
        "id": model.id,
        "name": model.name or model.id,
        "match": clause(model.match),
        "prices": periods,
    }
    if model.deprecated:
        entry["deprecated"] = True
    variants = []
    for variant in model.price_variants or ():
        tier = variant.when.get("service_tier")
        if tier is None or len(variant.when) != 1 or tier == "default":
            continue
        # Variant tiers are rare (flex above 272k); the table keeps their base price.
        partial = {
            ours: dec(value.base if hasattr(value, "tiers") else value)
            for key, ours in PRICE_KEYS.items()
            if (value := getattr(variant.prices, key, None)) is not None
        }
        if partial:
            variants.append({"service_tier": tier, **constraint(variant.constraint), **partial})
    if variants:
        entry["service_tiers"] = variants
    return entry


def available() -> bool:
    return importlib.util.find_spec("genai_prices") is not None


def make_fallback() -> FallbackLookup | None:
    """A lookup function backed by genai-prices, or None when the extra is not installed."""
    if not available():
        return None
    snapshot: list[Any] = []

    def lookup(model: str, provider: str | None) -> dict[str, Any] | None:
        if not snapshot:
            from genai_prices import data_snapshot

            snapshot.append(data_snapshot.get_snapshot())
        provider_id = _GENAI_PRICES_IDS.get(provider, provider) if provider else None
        try:
            found_provider, found_model = snapshot[0].find_provider_model(
                model, None, provider_id, None
            )
        except LookupError:
            # Unknown provider id or no model_match rule: any provider listing the model.
            found = next(
                ((p, m) for p in snapshot[0].providers if (m := p.find_model(model)) is not None),
                None,
            )
            if found is None:
                return None
            found_provider, found_model = found
        entry = model_entry(found_provider.id, found_model)
        if entry is not None:
            entry["match"] = {"equals": model}
        return entry

    return lookup
