"""otelcli against the ground truth of the recorded corpus (tests/data/corpus/runs/).

Per run: the bill the fakes' usage adds up to (truth.json, priced with the built-in table)
against `otelcli cost` over the run's spans, and the number of LLM calls cost, tail's totals
and validate count. Then validate's precision: every finding, as (rule, level, attribute)
counts, looked up in the judgments (tests/data/corpus/judgments.json: true deviation or not
applicable, with the reason); a finding nobody judged is listed as such.

    PYTHONPATH=. python scripts/corpus_truth.py [--only RUN] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

RUNS = REPO / "tests" / "data" / "corpus" / "runs"
JUDGMENTS = REPO / "tests" / "data" / "corpus" / "judgments.json"
TOLERANCE = Decimal("0.01")


def truth_usage(call: Mapping[str, Any]) -> dict[str, int] | None:
    """A truth.json call's usage in semconv terms (input incl. cache, output incl. reasoning)."""
    usage = call.get("usage")
    if call.get("status") != 200 or not usage:
        return None
    provider = call["provider"]
    if provider == "anthropic":
        read = int(usage.get("cache_read_input_tokens") or 0)
        write = int(usage.get("cache_creation_input_tokens") or 0)
        split = usage.get("cache_creation") or {}
        return {
            "input": int(usage["input_tokens"]) + read + write,
            "output": int(usage["output_tokens"]),
            "cache_read": read,
            "cache_write": write,
            "cache_write_1h": int(split.get("ephemeral_1h_input_tokens") or 0),
            "reasoning": 0,  # thinking tokens are part of output and priced as output
        }
    if provider == "gemini":
        thoughts = int(usage.get("thoughtsTokenCount") or 0)
        return {
            "input": int(usage.get("promptTokenCount") or 0),
            "output": int(usage.get("candidatesTokenCount") or 0) + thoughts,
            "cache_read": int(usage.get("cachedContentTokenCount") or 0),
            "cache_write": 0,
            "cache_write_1h": 0,
            "reasoning": thoughts,
        }
    if "prompt_tokens" in usage:  # chat completions, embeddings
        details = usage.get("prompt_tokens_details") or {}
        out_details = usage.get("completion_tokens_details") or {}
        return {
            "input": int(usage["prompt_tokens"]),
            "output": int(usage.get("completion_tokens") or 0),
            "cache_read": int(details.get("cached_tokens") or 0),
            "cache_write": 0,
            "cache_write_1h": 0,
            "reasoning": int(out_details.get("reasoning_tokens") or 0),
        }
    details = usage.get("input_tokens_details") or {}  # Responses API
    out_details = usage.get("output_tokens_details") or {}
    return {
        "input": int(usage["input_tokens"]),
        "output": int(usage.get("output_tokens") or 0),
        "cache_read": int(details.get("cached_tokens") or 0),
        "cache_write": 0,
        "cache_write_1h": 0,
        "reasoning": int(out_details.get("reasoning_tokens") or 0),
    }


@dataclass
class RunResult:
    run: str
    truth_calls: int = 0  # calls that got a response with usage
    truth_usd: Decimal = Decimal(0)
    cost_usd: Decimal = Decimal(0)
    cost_calls: int = 0
    tail_calls: int = 0
    validate_calls: int = 0
    set_aside: dict[str, int] = field(default_factory=dict)
    unknowable: list[str] = field(default_factory=list)  # what the spans cannot tell
    unknown_models: list[str] = field(default_factory=list)
    findings: dict[tuple[str, str, str], int] = field(default_factory=dict)

    @property
    def error(self) -> Decimal | None:
        if not self.truth_usd:
            return None
        return (self.cost_usd - self.truth_usd) / self.truth_usd


def truth_cost(truth: Mapping[str, Any], table: Any) -> tuple[int, Decimal]:
    from otelcli.genai.pricing.cost import price_call

    calls = 0
    total = Decimal(0)
    for call in truth["calls"]:
        usage = truth_usage(call)
        if usage is None:
            continue
        calls += 1
        breakdown = price_call(
            table,
            call["model_requested"],
            usage["input"],
            usage["output"],
            cached_tokens=usage["cache_read"],
            cache_write_tokens=usage["cache_write"],
            cache_write_1h_tokens=usage["cache_write_1h"],
            reasoning_tokens=usage["reasoning"],
            provider=call["provider"],
        )
        if breakdown.total_usd is None:
            raise SystemExit(f"no price for {call['model_requested']}")
        total += breakdown.total_usd
    return calls, total


def tail_calls(traces: Path, table: Any) -> int:
    """LLM calls counted by tail's per-trace totals (the live board, without the view)."""
    from otelcli.genai.pricing.summary import Summarizer
    from otelcli.otlp.reader import read_batches
    from otelcli.otlp.traces import TraceBoard, trace_totals

    summarizer = Summarizer(table)
    board = TraceBoard()
    for batch in read_batches([str(traces)]):
        board.add_batch(batch)
    return sum(trace_totals(entry, summarizer).calls for entry in board.pop_all())


def evaluate(run_dir: Path, table: Any) -> RunResult:
    from otelcli.flows.cost import CostRequest, PricingSource, price_captures

    truth = json.loads((run_dir / "truth.json").read_text())
    result = RunResult(run_dir.name)
    result.truth_calls, result.truth_usd = truth_cost(truth, table)
    traces = run_dir / "traces.jsonl"
    if not traces.exists():
        return result
    cost = price_captures(CostRequest([str(traces)], source=PricingSource(fallback=False))).report
    result.cost_usd = cost.total.total_usd
    result.cost_calls = cost.total.spans
    result.set_aside = dict(cost.set_aside)
    result.unknowable = sorted(cost.cannot_tell())
    result.unknown_models = sorted(f"{m} ({p})" for m, p in cost.unknown_models)
    result.tail_calls = tail_calls(traces, table)
    report = validate_report(traces)
    result.validate_calls = report.llm_calls
    for summary in report.summaries():
        rest = summary.count
        for attribute, count in summary.attributes.items():
            result.findings[(summary.rule, summary.level, attribute)] = count
            rest -= count
        if rest:
            result.findings[(summary.rule, summary.level, "")] = rest
    return result


def validate_report(traces: Path, *, normalized: bool = False) -> Any:
    """What `otelcli validate FILE` finds, with the default policy and rule table."""
    from otelcli.genai.semconv.findings import ValidationReport
    from otelcli.genai.semconv.rules import DEFAULT_TABLE, load_rules
    from otelcli.genai.semconv.validate import Options, Validator
    from otelcli.otlp.reader import read_batches

    report = ValidationReport(level_for=lambda rule, level, attribute: level)
    validator = Validator(load_rules(DEFAULT_TABLE), report, Options(normalized=normalized))
    return validator.check_batches(read_batches([str(traces)]))


def load_judgments(path: Path = JUDGMENTS) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def judge(
    run: str, key: tuple[str, str, str], count: int, judgments: Mapping[str, Any]
) -> dict[str, int] | None:
    """Verdict -> how many of the run's `count` findings of one (rule, level, attribute) it
    covers ('true' or 'not_applicable'); None when nobody judged them. A judgment may set
    part of them apart: {"verdict": "true", "not_applicable": {"count": 1, "reason": ...}}."""
    rule, _level, attribute = key
    per_run = judgments.get("runs", {}).get(run, {})
    for table in (per_run, judgments.get("all_runs", {})):
        for name in (f"{rule} {attribute}".strip(), rule):
            entry = table.get(name)
            if entry is None:
                continue
            verdict = str(entry["verdict"])
            other = "not_applicable" if verdict == "true" else "true"
            apart = min(count, int(entry.get(other, {}).get("count", 0)))
            out = {verdict: count - apart}
            if apart:
                out[other] = apart
            return {k: v for k, v in out.items() if v}
    return None


def deviations(result: RunResult, judgments: Mapping[str, Any]) -> dict[str, int]:
    """The findings judged true deviations, as "rule level attribute" -> count."""
    out: dict[str, int] = {}
    for key, count in sorted(result.findings.items()):
        verdicts = judge(result.run, key, count, judgments) or {}
        if verdicts.get("true"):
            out[" ".join(key).strip()] = verdicts["true"]
    return out


def expected_file(run_dir: Path) -> Path:
    return run_dir / "expected.json"


def pin(result: RunResult, judgments: Mapping[str, Any]) -> None:
    """Write the run's expected.json: its LLM calls and the deviations validate must report."""
    document = {
        "about": "What otelcli must report on this run (scripts/corpus_truth.py --pin writes it "
        "from the judgments; tests/cli/test_validate_truth.py checks it).",
        "llm_calls": result.cost_calls,  # cost, tail's totals and validate agree on it
        "truth_calls": result.truth_calls,  # calls the fakes answered with usage
        "deviations": deviations(result, judgments),
    }
    path = expected_file(RUNS / result.run)
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def missing_deviations(results: list[RunResult]) -> list[tuple[str, str, int, int]]:
    """Deviations a run's expected.json names that validate reports fewer times now."""
    out = []
    for r in results:
        path = expected_file(RUNS / r.run)
        if not path.exists():
            continue
        found = {" ".join(k).strip(): n for k, n in r.findings.items()}
        for name, want in json.loads(path.read_text())["deviations"].items():
            if found.get(name, 0) < want:
                out.append((r.run, name, want, found.get(name, 0)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="run name (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--verbose", action="store_true", help="list every unjudged finding")
    parser.add_argument(
        "--pin", action="store_true", help="write each run's expected.json from the judgments"
    )
    args = parser.parse_args(argv)

    from otelcli.genai.pricing.table import load_table

    table = load_table(None, use_fallback=False)
    judgments = load_judgments() if JUDGMENTS.exists() else {}
    runs = sorted(p for p in RUNS.iterdir() if (p / "truth.json").exists())
    if args.only:
        runs = [p for p in runs if p.name in args.only]
    results = [evaluate(p, table) for p in runs]

    per_level: dict[str, dict[str, int]] = {}
    unjudged: list[tuple[str, tuple[str, str, str], int]] = []
    for r in results:
        for key, count in sorted(r.findings.items()):
            judged = judge(r.run, key, count, judgments)
            if judged is None:
                unjudged.append((r.run, key, count))
                judged = {"unjudged": count}
            verdicts = per_level.setdefault(key[1], {})
            for verdict, n in judged.items():
                verdicts[verdict] = verdicts.get(verdict, 0) + n
        if args.pin:
            pin(r, judgments)
    missed = missing_deviations(results)

    if args.json:
        print(
            json.dumps(
                {
                    "runs": [
                        {
                            "run": r.run,
                            "truth_usd": str(r.truth_usd),
                            "cost_usd": str(r.cost_usd),
                            "error": None if r.error is None else float(r.error),
                            "calls": {
                                "truth": r.truth_calls,
                                "cost": r.cost_calls,
                                "tail": r.tail_calls,
                                "validate": r.validate_calls,
                            },
                            "set_aside": r.set_aside,
                            "unknowable": r.unknowable,
                        }
                        for r in results
                    ],
                    "precision": per_level,
                    "missed": [list(m) for m in missed],
                    "unjudged": [[run, *key, n] for run, key, n in unjudged],
                },
                indent=1,
            )
        )
        return 0

    print(f"{'run':40} {'truth $':>10} {'cost $':>10} {'error':>8}  calls t/c/tail/v  note")
    for r in results:
        error = "-" if r.error is None else f"{float(r.error) * 100:+.2f}%"
        calls = f"{r.truth_calls}/{r.cost_calls}/{r.tail_calls}/{r.validate_calls}"
        notes = []
        if r.error is not None and abs(r.error) > TOLERANCE:
            reason = judgments.get("cost", {}).get(r.run)
            if reason:
                notes.append(reason)
            if r.unknowable:
                notes.append("cannot tell: " + "; ".join(r.unknowable))
            if r.unknown_models:
                notes.append("no price for " + ", ".join(r.unknown_models))
            if not notes:
                notes.append("OFF TARGET")
        if r.set_aside:
            notes.append("set aside " + ", ".join(f"{n} {k}" for k, n in r.set_aside.items()))
        print(
            f"{r.run:40} {r.truth_usd:>10.6f} {r.cost_usd:>10.6f} {error:>8}  "
            f"{calls:16}  {' | '.join(notes)}"
        )
    print()
    print("validate precision (findings judged true / all findings):")
    for level in ("violation", "improvement", "information"):
        counts = per_level.get(level, {})
        total = sum(counts.values())
        true = counts.get("true", 0)
        precision = f"{true / total * 100:.1f}%" if total else "-"
        detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        print(f"  {level:12} {precision:>7}  ({detail or 'none'})")
    if missed:
        print("\njudged deviations validate no longer reports (expected.json):")
        for run, name, want, got in missed:
            print(f"  {run}: {name} expected {want}, found {got}")
    else:
        print("\nevery judged deviation in the expected files is found")
    if unjudged:
        shown = unjudged if args.verbose else unjudged[:20]
        print(f"\nunjudged findings ({len(unjudged)} (run, rule, level, attribute) counts):")
        for run, key, count in shown:
            print(f"  {run}: {' '.join(key)} x{count}")
        if len(shown) < len(unjudged):
            print(f"  ... {len(unjudged) - len(shown)} more (--verbose)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
