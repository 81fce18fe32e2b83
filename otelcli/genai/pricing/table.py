"""The pricing table: load it, add a user's --pricing file, and resolve a model name to prices.

Prices are USD per million tokens. Internally each rate is an int in nano-dollars per MTok
(RATE_SCALE), so tokens x rate is an exact int in 1e-15 dollars (COST_SCALE): sums never drift
and agree with Decimal arithmetic to the last digit.

Resolution (per distinct (model, provider), cached): user entries first, then the built-in
table trying name candidates in order - exact, lower-case, without wrapper prefixes
(`models/`, `openai/`), Bedrock region/vendor and Vertex `@` forms, compact dates expanded,
dated suffix stripped last (gpt-4o-2024-05-13 has its own price, so never strip first) -
across the span's provider and its fallbacks (Azure -> OpenAI, Google -> Anthropic), then any
provider; then the optional genai-prices fallback. Unknown models resolve to None.
"""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from otelcli.errors import ConfigError

RATE_SCALE = 10**9  # rate units per USD/MTok
COST_SCALE = 10**15  # cost units per USD (tokens x rate units / 1e6 tokens)
NS_PER_DAY = 86_400 * 10**9
SECONDS_PER_DAY = 86_400

Matcher = Callable[[str], bool]


def to_rate(value: Any) -> int:
    """USD per MTok (number or numeric string) -> int rate units."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(
            f"not a price: {value!r}", "prices are numbers in USD per 1M tokens"
        ) from None
    if not amount.is_finite() or amount < 0:
        raise ConfigError(f"not a price: {value!r}", "prices are non-negative numbers")
    return int((amount * RATE_SCALE).to_integral_value())


def rate_to_usd(rate: int | None) -> Decimal | None:
    return None if rate is None else Decimal(rate) / RATE_SCALE


def cost_to_usd(units: int) -> Decimal:
    return Decimal(units).scaleb(-15)


@dataclass(frozen=True, slots=True)
class Rates:
    """Rates in RATE_SCALE units per MTok; None = not priced separately (falls back)."""

    input: int
    output: int
    cache_read: int | None = None
    cache_write: int | None = None  # 5-minute (or the only) cache write price
    cache_write_1h: int | None = None
    reasoning: int | None = None

    def usd(self) -> dict[str, Decimal]:
        """$/MTok per priced key, for display."""
        out: dict[str, Decimal] = {}
        for key in ("input", "output", "cache_read", "cache_write", "cache_write_1h", "reasoning"):
            value = rate_to_usd(getattr(self, key))
            if value is not None:
                out[key] = value
        return out


RATE_KEYS = ("input", "output", "cache_read", "cache_write", "cache_write_1h", "reasoning")


def _rates(raw: Mapping[str, Any], base: Rates | None = None) -> Rates:
    values: dict[str, Any] = {
        key: to_rate(raw[key]) for key in RATE_KEYS if raw.get(key) is not None
    }
    if base is not None:
        return replace(base, **values)
    values.setdefault("input", 0)
    values.setdefault("output", 0)
    return Rates(**values)


@dataclass(frozen=True, slots=True)
class PricePeriod:
    """Prices valid from a date (UTC) and/or within a daily UTC window."""

    rates: Rates
    tiers: tuple[tuple[int, Rates], ...] = ()  # (above_input_tokens, rates), ascending
    start_ns: int | None = None
    end_ns: int | None = None  # exclusive; user entries only
    daily: tuple[int, int] | None = None  # seconds of the UTC day [start, end)

    def active(self, ts_ns: int) -> bool:
        if self.start_ns is not None and ts_ns < self.start_ns:
            return False
        if self.end_ns is not None and ts_ns >= self.end_ns:
            return False
        if self.daily is not None:
            second = (ts_ns // 10**9) % SECONDS_PER_DAY
            start, end = self.daily
            if end < start:  # window crosses midnight
                return second >= start or second < end
            return start <= second < end
        return True

    def rates_for(self, input_tokens: int) -> tuple[Rates, int | None]:
        """Cliff tiers: above a threshold every token of the request takes the tier rate."""
        for above, rates in reversed(self.tiers):
            if input_tokens > above:
                return rates, above
        return self.rates, None


@dataclass(frozen=True, slots=True)
class ServiceTierPrice:
    service_tier: str
    start_ns: int | None
    overrides: Mapping[str, int]


@dataclass(frozen=True)
class PriceEntry:
    provider: str
    model_id: str
    name: str
    matcher: Matcher = field(repr=False, compare=False)
    periods: tuple[PricePeriod, ...]
    service_tiers: tuple[ServiceTierPrice, ...] = ()
    source: str = "builtin"  # builtin | user:<file> | genai-prices
    deprecated: bool = False
    note: str | None = None
    scope_provider: str | None = None  # user entries limited to one provider
    strict_dates: bool = False  # user validity windows: outside them the entry does not apply
    match_spec: Any = field(default=None, repr=False, compare=False)

    @property
    def entry_id(self) -> str:
        return f"{self.provider}/{self.model_id}"

    def period_at(self, ts_ns: int) -> PricePeriod | None:
        periods = self.periods
        if len(periods) == 1 and not self.strict_dates:
            return periods[0]
        for period in reversed(periods):  # the last active period wins
            if period.active(ts_ns):
                return period
        return None if self.strict_dates else periods[0]

    def rates_at(
        self, ts_ns: int, input_tokens: int = 0, service_tier: str | None = None
    ) -> tuple[Rates, int | None] | None:
        """Rates for one request at ts_ns with this many input tokens (tier threshold used)."""
        period = self.period_at(ts_ns)
        if period is None:
            return None
        rates, above = period.rates_for(input_tokens)
        if service_tier and self.service_tiers:
            overrides: dict[str, int] = {}
            for variant in self.service_tiers:
                if variant.service_tier != service_tier:
                    continue
                if variant.start_ns is not None and ts_ns < variant.start_ns:
                    continue
                for key, value in variant.overrides.items():
                    overrides.setdefault(key, value)
            if overrides:
                rates = replace(rates, **overrides)
        return rates, above

    def current_period(self) -> PricePeriod:
        period = self.period_at(now_ns())
        return period if period is not None else self.periods[-1]


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    id: str
    name: str
    input_includes_cache: bool = True
    output_includes_reasoning: bool = True
    fallback: tuple[str, ...] = ()
    model_match: Matcher | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a (model, provider) resolved to. `entries` are tried in order per span (a user
    entry with validity dates may not cover every span)."""

    entries: tuple[PriceEntry, ...]
    matched_name: str
    provider: ProviderInfo | None  # the span's provider if known, else the entry's
    provider_guessed: bool  # found outside the span's provider and its fallbacks

    @property
    def entry(self) -> PriceEntry:
        return self.entries[0]


# ---------------------------------------------------------------------------------------------
# Match clauses (the genai-prices clause vocabulary; case-insensitive, model lower-cased first)


def compile_clause(spec: Mapping[str, Any]) -> Matcher:
    if "or" in spec:
        parts = tuple(compile_clause(s) for s in spec["or"])
        return lambda text: any(p(text) for p in parts)
    if "and" in spec:
        parts = tuple(compile_clause(s) for s in spec["and"])
        return lambda text: all(p(text) for p in parts)
    if "equals" in spec:
        equals = str(spec["equals"]).lower()
        return lambda text: text == equals
    if "starts_with" in spec:
        prefix = str(spec["starts_with"]).lower()
        return lambda text: text.startswith(prefix)
    if "ends_with" in spec:
        suffix = str(spec["ends_with"]).lower()
        return lambda text: text.endswith(suffix)
    if "contains" in spec:
        part = str(spec["contains"]).lower()
        return lambda text: part in text
    if "regex" in spec:
        pattern = re.compile(spec["regex"])
        return lambda text: pattern.search(text) is not None
    if "glob" in spec:
        pattern = re.compile(fnmatch.translate(str(spec["glob"]).lower()))
        return lambda text: pattern.match(text) is not None
    raise ConfigError(f"unknown match clause {dict(spec)!r}", "use equals/starts_with/glob/regex")


# ---------------------------------------------------------------------------------------------
# Name candidates

_BEDROCK_REGION = re.compile(r"^(?:us|eu|apac|global|au|jp|ca|us-gov)\.(?=[a-z0-9-]+\.)")
_BEDROCK_VENDOR = re.compile(
    r"^(?:anthropic|meta|amazon|mistral|cohere|ai21|deepseek|openai|qwen|writer)\.(.+?)"
    r"(?:-v\d+(?::\d+)?)?$"
)
_WRAPPERS = re.compile(r"^(?:models/|publishers/[^/]+/models/|accounts/[^/]+/models/)")
_COMPACT_DATE = re.compile(r"-(20\d\d)(\d\d)(\d\d)$")
_DATE_SUFFIX = re.compile(r"(?:-20\d\d-\d\d-\d\d|-20\d{6}|@20\d{6}|@\d{3})$")
_VERTEX_VERSION = re.compile(r"@(?=20\d{6}$)")


def name_candidates(model: str) -> list[str]:
    """Names to try for one model string, most specific first (never strip before exact)."""
    name = model.strip().lower()
    out = [name]
    if name.startswith("ft:"):  # fine-tunes have their own prices: never price as the base
        return out

    def add(candidate: str) -> None:
        if candidate and candidate not in out:
            out.append(candidate)

    stripped = _WRAPPERS.sub("", name)
    add(stripped)
    if "/" in stripped:  # provider prefixes: openai/gpt-4o, azure/eu/gpt-4o, meta-llama/...
        add(stripped.split("/", 1)[1])
        add(stripped.rsplit("/", 1)[1])
    for current in list(out):
        region_free = _BEDROCK_REGION.sub("", current)
        add(region_free)
        vendor = _BEDROCK_VENDOR.match(region_free)
        if vendor:
            add(vendor.group(1))
    for current in list(out):
        if "@" in current:
            add(_VERTEX_VERSION.sub("-", current))  # claude-sonnet-4@20250514
            add(current.split("@", 1)[0])
        add(_COMPACT_DATE.sub(r"-\1-\2-\3", current))
    for current in list(out):
        add(_DATE_SUFFIX.sub("", current))
    return out


# ---------------------------------------------------------------------------------------------
# The table


class PriceTable:
    """Built-in prices plus user entries; resolves (model, provider) once and caches it."""

    def __init__(
        self,
        entries: Sequence[PriceEntry],
        providers: Mapping[str, ProviderInfo],
        provider_names: Mapping[str, str],
        *,
        source: str = "builtin",
        user_entries: Sequence[PriceEntry] = (),
        fallback: Callable[[str, str | None], Mapping[str, Any] | None] | None = None,
    ) -> None:
        self.entries = tuple(entries)
        self.providers = dict(providers)
        self.provider_names = dict(provider_names)
        self.source = source
        self.user_entries = tuple(user_entries)
        self.fallback = fallback
        self._by_provider: dict[str, list[PriceEntry]] = {}
        for entry in self.entries:
            self._by_provider.setdefault(entry.provider, []).append(entry)
        self._cache: dict[tuple[str, str | None], Resolution | None] = {}

    def __len__(self) -> int:
        return len(self.entries) + len(self.user_entries)

    def with_user_entries(
        self, entries: Sequence[PriceEntry], *, replace_builtin: bool = False
    ) -> PriceTable:
        """A table where `entries` win over the built-in ones (or replace them)."""
        return PriceTable(
            () if replace_builtin else self.entries,
            self.providers,
            self.provider_names,
            source=self.source,
            user_entries=(*entries, *self.user_entries),
            fallback=self.fallback,
        )

    def with_fallback(
        self, fallback: Callable[[str, str | None], Mapping[str, Any] | None] | None
    ) -> PriceTable:
        return PriceTable(
            self.entries,
            self.providers,
            self.provider_names,
            source=self.source,
            user_entries=self.user_entries,
            fallback=fallback,
        )

    def provider_id(self, provider: str | None) -> str | None:
        """An OTel provider name (gen_ai.provider.name) -> the table's provider id."""
        if not provider:
            return None
        lowered = provider.lower()
        if lowered in self.providers:
            return lowered
        return self.provider_names.get(lowered)

    def resolve(self, model: str, provider: str | None = None) -> Resolution | None:
        key = (model, provider)
        try:
            return self._cache[key]
        except KeyError:
            pass
        result = self._resolve(model, provider)
        self._cache[key] = result
        return result

    def _resolve(self, model: str, provider: str | None) -> Resolution | None:
        if not model:
            return None
        pid = self.provider_id(provider)
        info = self.providers.get(pid) if pid else None
        candidates = name_candidates(model)
        if pid == "fireworks":  # spans often drop Fireworks' account path
            candidates += [f"accounts/fireworks/models/{c}" for c in candidates if "/" not in c]
        user = [
            e
            for e in self.user_entries
            if (e.scope_provider is None or e.scope_provider in (pid, (provider or "").lower()))
            and any(e.matcher(c) for c in candidates)
        ]
        # User entries that match the exact name come first; the builtin backs them up.
        chain: list[str] = []
        if pid:
            chain.append(pid)
            chain.extend(self.providers[pid].fallback if pid in self.providers else ())
        found = self._search(candidates, chain) if chain else None
        guessed = False
        if found is None:
            guessed = pid is not None
            found = self._search(candidates, self._guess_order(candidates))
        if found is None and self.fallback is not None:
            found = self._from_fallback(model, pid)
            guessed = False
        entries = tuple(user) + ((found[0],) if found else ())
        if not entries:
            return None
        matched = found[1] if found and not user else candidates[0]
        entry_provider = self.providers.get(entries[0].provider)
        return Resolution(
            entries=entries,
            matched_name=matched,
            provider=info or entry_provider,
            provider_guessed=guessed and not user,
        )

    def _search(
        self, candidates: Sequence[str], providers: Iterable[str]
    ) -> tuple[PriceEntry, str] | None:
        provider_list = list(dict.fromkeys(providers))
        for candidate in candidates:
            for pid in provider_list:
                for entry in self._by_provider.get(pid, ()):
                    if entry.matcher(candidate):
                        return entry, candidate
        return None

    def _guess_order(self, candidates: Sequence[str]) -> list[str]:
        """Providers whose model_match claims the name first (gpt- -> openai), then all."""
        claimed = [
            pid
            for pid, info in self.providers.items()
            if info.model_match is not None and any(info.model_match(c) for c in candidates)
        ]
        bedrock_id = _BEDROCK_VENDOR.match(_BEDROCK_REGION.sub("", candidates[0]))
        if bedrock_id and candidates[0].endswith((":0", "-v1", "-v2")) and "aws" in self.providers:
            claimed.insert(0, "aws")  # anthropic.claude-...-v1:0 is a Bedrock id
        return claimed + [pid for pid in self.providers if pid not in claimed]

    def _from_fallback(self, model: str, pid: str | None) -> tuple[PriceEntry, str] | None:
        assert self.fallback is not None
        for candidate in name_candidates(model):
            raw = self.fallback(candidate, pid)
            if raw is not None:
                return parse_entry(raw, source="genai-prices"), candidate
        return None

    def find(self, pattern: str | None = None) -> list[PriceEntry]:
        """Entries whose id, name or provider matches a glob or substring (for `cost prices`)."""
        entries = [*self.user_entries, *self.entries]
        if not pattern:
            return entries
        needle = pattern.lower()
        if any(ch in needle for ch in "*?["):
            regex = re.compile(fnmatch.translate(needle))
            return [
                e for e in entries if regex.match(e.model_id.lower()) or regex.match(e.entry_id)
            ]
        return [e for e in entries if needle in e.entry_id.lower() or needle in e.name.lower()]


# ---------------------------------------------------------------------------------------------
# Loading


def _date_ns(value: Any) -> int:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(moment.timestamp() * 10**9)
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            raise ConfigError(f"not a date: {value!r}", "write dates as YYYY-MM-DD") from None
    return (day - date(1970, 1, 1)).days * NS_PER_DAY


def _seconds(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")[:2]
    return int(hours) * 3600 + int(minutes) * 60


def _period(raw: Mapping[str, Any]) -> PricePeriod:
    rates = _rates(raw)
    tiers = tuple(
        sorted(
            (
                int(t.get("above", t.get("above_input_tokens", 0))),
                _rates(t, base=rates),
            )
            for t in raw.get("tiers", ())
        )
    )
    daily = raw.get("daily")
    start = raw.get("from", raw.get("valid_from"))
    end = raw.get("to", raw.get("valid_to"))
    return PricePeriod(
        rates=rates,
        tiers=tiers,
        start_ns=_date_ns(start) if start is not None else None,
        end_ns=_date_ns(end) + (NS_PER_DAY if isinstance(end, str) and len(end) == 10 else 0)
        if end is not None
        else None,
        daily=(_seconds(daily[0]), _seconds(daily[1])) if daily else None,
    )


def parse_entry(raw: Mapping[str, Any], *, source: str = "builtin") -> PriceEntry:
    """One model entry in the prices.json format."""
    periods = tuple(_period(p) for p in raw["prices"])
    # Newest start first: rates_at takes the first variant in force, whatever the file's order.
    variants = tuple(
        sorted(
            (
                ServiceTierPrice(
                    service_tier=v["service_tier"],
                    start_ns=_date_ns(v["from"]) if "from" in v else None,
                    overrides={k: to_rate(v[k]) for k in RATE_KEYS if k in v},
                )
                for v in raw.get("service_tiers", ())
            ),
            key=lambda v: -1 if v.start_ns is None else v.start_ns,
            reverse=True,
        )
    )
    return PriceEntry(
        provider=raw["provider"],
        model_id=raw["id"],
        name=raw.get("name", raw["id"]),
        matcher=compile_clause(raw["match"]),
        periods=periods,
        service_tiers=variants,
        source=source,
        deprecated=bool(raw.get("deprecated", False)),
        note=raw.get("corrected") or raw.get("note"),
        match_spec=raw["match"],
    )


def parse_table(raw: Mapping[str, Any], *, source: str = "builtin") -> PriceTable:
    providers = {
        p["id"]: ProviderInfo(
            id=p["id"],
            name=p.get("name", p["id"]),
            input_includes_cache=bool(p.get("input_includes_cache", True)),
            output_includes_reasoning=bool(p.get("output_includes_reasoning", True)),
            fallback=tuple(p.get("fallback", ())),
            model_match=compile_clause(p["model_match"]) if "model_match" in p else None,
        )
        for p in raw.get("providers", ())
    }
    entries = [parse_entry(m, source=source) for m in raw["models"]]
    return PriceTable(
        entries, providers, raw.get("provider_names", {}), source=raw.get("source", source)
    )


@cache
def load_builtin_table() -> PriceTable:
    """The packaged table (otelcli/data/prices.json), parsed once per process."""
    text = resources.files("otelcli.data").joinpath("prices.json").read_text("utf-8")
    return parse_table(json.loads(text))


def load_table(
    pricing_file: str | Path | None = None,
    *,
    use_fallback: bool = True,
    replace_builtin: bool = False,
) -> PriceTable:
    """Built-in table + optional user file (wins) + genai-prices fallback if installed."""
    table = load_builtin_table()
    if pricing_file is not None:
        table = table.with_user_entries(
            load_pricing_file(pricing_file), replace_builtin=replace_builtin
        )
    if use_fallback:
        from otelcli.genai.pricing.fallback import make_fallback

        fallback = make_fallback()
        if fallback is not None:
            table = table.with_fallback(fallback)
    return table


# ---------------------------------------------------------------------------------------------
# User pricing files: TOML/JSON ([[models]] with flat prices), the prices.json format,
# or LiteLLM's model_prices_and_context_window.json (USD per token).

_LITELLM_TIER = re.compile(
    r"^(input|output|cache_read_input_token|cache_creation_input_token)"
    r"_cost(?:_per_token)?_above_(\d+)k_tokens$"
)


def load_pricing_file(path: str | Path) -> list[PriceEntry]:
    file = Path(path)
    source = f"user:{file.name}"
    try:
        text = file.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read pricing file {file}: {exc.strerror}", "check the path"
        ) from None
    try:
        if file.suffix.lower() == ".toml":
            raw: Any = tomllib.loads(text)
        else:
            raw = json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"pricing file {file} is not valid {file.suffix.lstrip('.') or 'JSON'}: {exc}",
            "see `otelcli cost --help` for the pricing file format",
        ) from None
    return parse_pricing_data(raw, source=source)


def parse_pricing_data(raw: Any, *, source: str = "user") -> list[PriceEntry]:
    if not isinstance(raw, Mapping):
        raise ConfigError("a pricing file must hold an object/table", "start with [[models]]")
    models = raw.get("models", raw.get("model"))
    if isinstance(models, list):
        return [_user_entry(m, source) for m in models]
    if any(isinstance(v, Mapping) and "input_cost_per_token" in v for v in raw.values()):
        return _litellm_entries(raw, source)
    raise ConfigError(
        "pricing file has no [[models]] list and is not LiteLLM model-prices JSON",
        "write [[models]] entries with match, input and output (USD per 1M tokens)",
    )


def _user_entry(raw: Any, source: str) -> PriceEntry:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"pricing entry is not a table: {raw!r}", "use [[models]] tables")
    if "prices" in raw and "match" in raw and isinstance(raw["match"], Mapping):
        entry = parse_entry(raw, source=source)  # the full prices.json form
        return replace(entry, source=source)
    name = raw.get("match", raw.get("model", raw.get("name")))
    regex = raw.get("regex")
    if not name and not regex:
        raise ConfigError(f"pricing entry without match: {dict(raw)!r}", 'add match = "model-name"')
    if "input" not in raw and "output" not in raw:
        raise ConfigError(
            f"pricing entry {name or regex} has no input/output price",
            "prices are USD per 1M tokens: input = 2.5, output = 10",
        )
    if regex:
        spec: dict[str, Any] = {"regex": str(regex)}
    elif any(ch in str(name) for ch in "*?["):
        spec = {"glob": str(name)}
    else:
        spec = {"equals": str(name)}
    provider = raw.get("provider")
    period = _period(raw)
    strict = period.start_ns is not None or period.end_ns is not None
    return PriceEntry(
        provider=str(provider or "user"),
        model_id=str(name or regex),
        name=str(raw.get("name", name or regex)),
        matcher=compile_clause(spec),
        periods=(period,),
        source=source,
        scope_provider=str(provider).lower() if provider else None,
        strict_dates=strict,
        note=raw.get("note"),
        match_spec=spec,
    )


def _per_token(value: Any) -> Decimal:
    # LiteLLM floats such as 1.9999999999999998e-07: round to 1e-9 USD/MTok.
    return (Decimal(str(value)) * 10**6).quantize(Decimal("0.000000001")).normalize()


def _litellm_entries(raw: Mapping[str, Any], source: str) -> list[PriceEntry]:
    entries = []
    for key, spec in raw.items():
        if key == "sample_spec" or not isinstance(spec, Mapping):
            continue
        if "input_cost_per_token" not in spec and "output_cost_per_token" not in spec:
            continue
        prices: dict[str, Any] = {
            "input": _per_token(spec.get("input_cost_per_token", 0)),
            "output": _per_token(spec.get("output_cost_per_token", 0)),
        }
        for ours, theirs in (
            ("cache_read", "cache_read_input_token_cost"),
            ("cache_write", "cache_creation_input_token_cost"),
            ("cache_write_1h", "cache_creation_input_token_cost_above_1hr"),
            ("reasoning", "output_cost_per_reasoning_token"),
        ):
            if spec.get(theirs) is not None:
                prices[ours] = _per_token(spec[theirs])
        tiers: dict[int, dict[str, Any]] = {}
        for field_name, value in spec.items():
            found = _LITELLM_TIER.match(field_name)
            if found and value is not None:
                ours = {
                    "input": "input",
                    "output": "output",
                    "cache_read_input_token": "cache_read",
                    "cache_creation_input_token": "cache_write",
                }[found.group(1)]
                tiers.setdefault(int(found.group(2)) * 1000, {})[ours] = _per_token(value)
        if tiers:
            prices["tiers"] = [{"above": above, **v} for above, v in sorted(tiers.items())]
        provider = str(spec.get("litellm_provider") or "user")
        names = [key.lower()]
        if "/" in key:
            names.append(key.rsplit("/", 1)[1].lower())
        period = _period(prices)
        entries.append(
            PriceEntry(
                provider=provider,
                model_id=key,
                name=key,
                matcher=compile_clause({"or": [{"equals": n} for n in names]}),
                periods=(period,),
                source=source,
                match_spec={"or": [{"equals": n} for n in names]},
            )
        )
    return entries


def now_ns() -> int:
    return int(datetime.now(tz=UTC).timestamp() * 10**9)


def iter_rates(entry: PriceEntry) -> Iterator[tuple[PricePeriod, Rates, int | None]]:
    """Every (period, rates, tier threshold) of an entry, for listings."""
    for period in entry.periods:
        yield period, period.rates, None
        for above, rates in period.tiers:
            yield period, rates, above
