"""Regenerate otelcli/data/prices.json from the genai-prices package (MIT, pydantic/genai-prices).

    pip install genai-prices && python scripts/refresh_prices.py [--check]

The table keeps only what `otelcli cost` prices: token prices in USD per million tokens, price
history (start dates and daily UTC windows), cliff tiers on total input tokens, service-tier
variants, and the model-matching clauses. CORRECTIONS below are this project's own fixes to
entries the reference research found stale; they are applied after the import and marked
`"corrected"` so the cross-check test can leave them out. --check exits 1 if the file would change.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from otelcli.genai.pricing.fallback import clause, model_entry

OUT = Path(__file__).resolve().parents[1] / "otelcli" / "data" / "prices.json"

# Providers worth shipping: first-party APIs, clouds that resell them, popular open-model hosts.
PROVIDERS = (
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
    "perplexity",
    "moonshotai",
    "cerebras",
    "zai",
)

# Raw provider usage semantics (pricing reference §5.3): does the provider's own input count
# include cache reads/writes, and does its output count include reasoning tokens?
EXCLUSIVE_CACHE = {"anthropic", "aws"}
EXCLUSIVE_REASONING = {"google", "x-ai"}

# OTel provider names (gen_ai.provider.name, after dialect normalisation) -> table provider ids.
OTEL_PROVIDERS = {
    "aws.bedrock": "aws",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "x_ai": "x-ai",
    "mistral_ai": "mistral",
    "moonshot_ai": "moonshotai",
    "together_ai": "together",
    "fireworks_ai": "fireworks",
}

# Project corrections (see pricing reference §0 and §4). Each adds periods or tiers.
CORRECTIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("anthropic", "claude-sonnet-4-0"): {
        "note": "1M-context beta: >200k input billed 6/22.5, cache 0.6/7.5/12 (LiteLLM <=1.100.0)",
        "tiers": [
            {
                "above": 200000,
                "input": "6",
                "output": "22.5",
                "cache_read": "0.6",
                "cache_write": "7.5",
                "cache_write_1h": "12",
            }
        ],
    },
    ("openai", "gpt-4o"): {
        "note": "gpt-4o billed at gpt-4o-2024-05-13's 5/15 before gpt-4o-2024-08-06 came out "
        "(OpenAI moved the alias itself on 2024-10-02)",
        "earlier_period": {"until": "2024-08-06", "input": "5", "output": "15"},
    },
    ("deepseek", "deepseek-chat"): {
        "note": "alias moved: V3.2 price from 2025-09-29 (LiteLLM), V4-Flash price from "
        "2026-05-25 (Portkey); both dates approximate",
        "append_periods": [
            {"from": "2025-09-29", "input": "0.28", "output": "0.42", "cache_read": "0.028"},
            {"from": "2026-05-25", "input": "0.14", "output": "0.28", "cache_read": "0.0028"},
        ],
    },
}
# mistral-large-latest moved from Large 2 to Large 3 (2512); split it out of Large 2's entry.
MISTRAL_LATEST = {
    "provider": "mistral",
    "id": "mistral-large-latest",
    "name": "Mistral Large (latest alias)",
    "match": {"equals": "mistral-large-latest"},
    "corrected": "alias points at Large 3 (2512) from 2025-12-02 (date approximate)",
    "prices": [
        {"input": "2", "output": "6"},
        {"from": "2025-12-02", "input": "0.5", "output": "1.5", "cache_read": "0.05"},
    ],
}


def drop_equals(tree: dict[str, Any], value: str) -> dict[str, Any]:
    if "or" in tree:
        return {"or": [c for c in tree["or"] if c.get("equals") != value]}
    return tree


def apply_corrections(entry: dict[str, Any]) -> None:
    fix = CORRECTIONS.get((entry["provider"], entry["id"]))
    if fix is None:
        return
    entry["corrected"] = fix["note"]
    for period in entry["prices"]:
        if "tiers" in fix:
            period["tiers"] = fix["tiers"]
    entry["prices"].extend(fix.get("append_periods", []))
    earlier = fix.get("earlier_period")
    if earlier is not None:  # the imported price holds from a date; an older one before it
        entry["prices"][0]["from"] = earlier["until"]
        entry["prices"].insert(0, {k: v for k, v in earlier.items() if k != "until"})


def build() -> dict[str, Any]:
    import genai_prices
    from genai_prices.data import providers

    by_id = {p.id: p for p in providers}
    provider_rows = []
    models = []
    for pid in PROVIDERS:
        provider = by_id[pid]
        row: dict[str, Any] = {
            "id": pid,
            "name": provider.name,
            "input_includes_cache": pid not in EXCLUSIVE_CACHE,
            "output_includes_reasoning": pid not in EXCLUSIVE_REASONING,
        }
        if provider.model_match is not None:
            row["model_match"] = clause(provider.model_match)
        fallbacks = [f for f in provider.fallback_model_providers or () if f in PROVIDERS]
        if fallbacks:
            row["fallback"] = fallbacks
        provider_rows.append(row)
        for model in provider.models:
            entry = model_entry(pid, model)
            if entry is None:
                continue
            if pid == "mistral" and entry["id"] == "mistral-large":
                entry["match"] = drop_equals(entry["match"], "mistral-large-latest")
                models.append(MISTRAL_LATEST)
            apply_corrections(entry)
            models.append(entry)
    return {
        "version": 1,
        "unit": "USD per 1,000,000 tokens",
        "source": f"genai-prices {genai_prices.__version__} (MIT, pydantic/genai-prices) "
        "with otelcli corrections",
        "generated": date.today().isoformat(),
        "provider_names": OTEL_PROVIDERS,
        "providers": provider_rows,
        "models": models,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if prices.json is out of date")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    table = build()
    text = json.dumps(table, indent=1, ensure_ascii=False) + "\n"
    if args.check:
        old = json.loads(args.out.read_text()) if args.out.exists() else {}
        old.pop("generated", None)
        table.pop("generated", None)
        if old != table:
            print(f"{args.out} is out of date; run scripts/refresh_prices.py", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text)
    print(f"wrote {args.out}: {len(table['models'])} models, {len(table['providers'])} providers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
