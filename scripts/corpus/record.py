"""The parent of the runs: virtualenvs, fakes, sink, one child per run, the files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from corpus.fakes import fake_providers
from corpus.runs import RUNS, RUNS_BY_NAME, VENVS, Run, Venv
from corpus.sink import ROOT_KEYS, otlp_sink

SCRIPTS = Path(__file__).resolve().parents[1]
REPO = SCRIPTS.parent
RUNS_DIR = REPO / "tests" / "data" / "corpus" / "runs"
VERCEL = SCRIPTS / "corpus_vercel"
VERCEL_PACKAGES = (
    "ai",
    "@ai-sdk/openai",
    "@ai-sdk/otel",
    "zod",
    "@opentelemetry/sdk-node",
    "@opentelemetry/api",
    "@opentelemetry/exporter-trace-otlp-http",
    "@opentelemetry/exporter-logs-otlp-http",
    "@opentelemetry/exporter-metrics-otlp-http",
)
# Settings from the shell that would change what a library records.
_ENV_PREFIXES = (
    "OTEL_",
    "TRACELOOP_",
    "OPENINFERENCE_",
    "OPENAI_",
    "ANTHROPIC_",
    "GOOGLE_",
    "GEMINI_",
    "LITELLM_",
    "LOGFIRE_",
    "OPENLIT_",
    "LANGCHAIN_",
    "LANGSMITH_",
)


def setup_venv(venv: Venv) -> None:
    if venv.interpreter.exists():
        return
    print(f"creating {venv.path} ...", flush=True)
    subprocess.run([venv.python, "-m", "venv", str(venv.path)], check=True)
    subprocess.run(
        [str(venv.interpreter), "-m", "pip", "install", "-q", *venv.requirements], check=True
    )


def versions(run: Run) -> str:
    if run.venv == "node":
        node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True)
        lines = [f"node {node.stdout.strip()}"]
        for name in VERCEL_PACKAGES:
            manifest = VERCEL / "node_modules" / name / "package.json"
            version = (
                json.loads(manifest.read_text())["version"] if manifest.exists() else "(missing)"
            )
            lines.append(f"{name} {version}")
        return "\n".join(lines) + "\n"
    venv = VENVS[run.venv]
    code = (
        "import sys\nfrom importlib import metadata\n"
        "print('python', sys.version.split()[0])\n"
        "for name in sys.argv[1:]:\n"
        "    try: print(name, metadata.version(name))\n"
        "    except metadata.PackageNotFoundError: print(name, '(not installed)')\n"
    )
    done = subprocess.run(
        [str(venv.interpreter), "-c", code, *venv.versioned],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _flat(prefix: str, node: Any, out: dict[str, int]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flat(f"{prefix}.{key}" if prefix else key, value, out)
    elif isinstance(node, list):
        for item in node:  # Gemini's per-modality details
            if isinstance(item, dict) and "modality" in item:
                _flat(f"{prefix}[{item['modality']}]", item.get("tokenCount"), out)
    elif isinstance(node, int) and not isinstance(node, bool):
        out[prefix] = out.get(prefix, 0) + node


def normalized(call: dict[str, Any]) -> dict[str, int]:
    """A call's usage as semconv counts: input includes cached and cache-written tokens,
    output includes reasoning tokens."""
    usage = call.get("usage") or {}
    if call["provider"] == "openai" and call["endpoint"] == "responses":
        return {
            "input_tokens": usage.get("input_tokens", 0),
            "output_tokens": usage.get("output_tokens", 0),
            "cache_read_input_tokens": (usage.get("input_tokens_details") or {}).get(
                "cached_tokens", 0
            ),
            "cache_creation_input_tokens": 0,
            "reasoning_tokens": (usage.get("output_tokens_details") or {}).get(
                "reasoning_tokens", 0
            ),
        }
    if call["provider"] == "openai":
        prompt = usage.get("prompt_tokens", 0)
        return {
            "input_tokens": prompt,
            "output_tokens": usage.get("completion_tokens", 0),
            "cache_read_input_tokens": (usage.get("prompt_tokens_details") or {}).get(
                "cached_tokens", 0
            ),
            "cache_creation_input_tokens": 0,
            "reasoning_tokens": (usage.get("completion_tokens_details") or {}).get(
                "reasoning_tokens", 0
            ),
        }
    if call["provider"] == "anthropic":
        read = usage.get("cache_read_input_tokens") or 0
        write = usage.get("cache_creation_input_tokens") or 0
        return {
            "input_tokens": usage.get("input_tokens", 0) + read + write,
            "output_tokens": usage.get("output_tokens", 0),
            "cache_read_input_tokens": read,
            "cache_creation_input_tokens": write,
            "reasoning_tokens": (usage.get("output_tokens_details") or {}).get(
                "thinking_tokens", 0
            ),
        }
    thoughts = usage.get("thoughtsTokenCount", 0)
    return {  # gemini: thoughts are billed as output, candidatesTokenCount leaves them out
        "input_tokens": usage.get("promptTokenCount", 0),
        "output_tokens": usage.get("candidatesTokenCount", 0) + thoughts,
        "cache_read_input_tokens": usage.get("cachedContentTokenCount", 0),
        "cache_creation_input_tokens": 0,
        "reasoning_tokens": thoughts,
    }


def truth_document(run: Run, calls: list[dict[str, Any]]) -> dict[str, Any]:
    totals: dict[str, dict[str, Any]] = {}
    for call in calls:
        model = totals.setdefault(
            call["model_requested"],
            {
                "provider": call["provider"],
                "calls": 0,
                "errors": 0,
                "streamed": 0,
                "input_tokens": 0,
                "output_tokens": 0,
                "cache_read_input_tokens": 0,
                "cache_creation_input_tokens": 0,
                "reasoning_tokens": 0,
                "usage_as_sent": {},
            },
        )
        model["calls"] += 1
        model["errors"] += call["status"] != 200
        model["streamed"] += bool(call["stream"])
        for key, value in normalized(call).items():
            model[key] += value
        _flat("", call.get("usage"), model["usage_as_sent"])
    return {
        "run": run.name,
        "description": run.description,
        "env": dict(run.env),
        "note": "totals are by model requested; input_tokens include cache reads and writes, "
        "output_tokens include reasoning (Gemini: candidates + thoughts); usage_as_sent sums "
        "each usage key exactly as the fake sent it",
        "totals": totals,
        "calls": calls,
    }


def _child_command(run: Run) -> list[str]:
    if run.venv == "node":
        return ["node", str(VERCEL / "record.mjs")]
    return [
        str(VENVS[run.venv].interpreter),
        str(SCRIPTS / "build_corpus.py"),
        "--run-child",
        run.name,
    ]


def record_run(run: Run, fake_base: str, sink_endpoint: str) -> dict[str, Any]:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(_ENV_PREFIXES)}
    env = {
        **base_env,
        "PYTHONPATH": str(SCRIPTS),
        "CORPUS_FAKE_BASE": fake_base,
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink_endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_SERVICE_NAME": f"corpus-{run.name}",
        "OTEL_METRIC_EXPORT_INTERVAL": "600000",
        "LITELLM_TELEMETRY": "False",
        "OPENLIT_DISABLE_TELEMETRY": "true",
        **run.env,
    }
    done = subprocess.run(_child_command(run), env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"{run.name}: the child failed\n{done.stderr[-4000:]}")
    return {"stderr": done.stderr}


def write_run(
    run: Run,
    received: dict[str, list[dict[str, Any]]],
    calls: list[dict[str, Any]],
    version_text: str,
) -> Path:
    folder = RUNS_DIR / run.name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for signal in ROOT_KEYS:
        if received[signal]:
            lines = (
                json.dumps(item, separators=(",", ":"), ensure_ascii=False)
                for item in received[signal]
            )
            (folder / f"{signal}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    document = truth_document(run, calls)
    (folder / "truth.json").write_text(
        json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    header = (
        f"# Versions that recorded this run (scripts/build_corpus.py --runs --only {run.name}).\n"
    )
    (folder / "versions.txt").write_text(header + version_text, encoding="utf-8")
    return folder


def main(only: Iterable[str] | None, setup_only: bool = False) -> int:
    names = list(only or [run.name for run in RUNS])
    unknown = [name for name in names if name not in RUNS_BY_NAME]
    if unknown:
        print(f"unknown run(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    selected = [RUNS_BY_NAME[name] for name in names]
    for venv_name in dict.fromkeys(run.venv for run in selected):
        if venv_name != "node":
            setup_venv(VENVS[venv_name])
    if setup_only:
        return 0
    failed: list[str] = []
    with fake_providers() as fakes, otlp_sink() as sink:
        for run in selected:
            if run.venv == "node" and not (VERCEL / "node_modules").exists():
                print(f"{run.name}: skipped (run `npm ci` in {VERCEL.relative_to(REPO)})")
                continue
            fakes.truth.reset()
            sink.take()
            try:
                record_run(run, fakes.base, sink.endpoint)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                print(f"{run.name}: FAILED {exc}", file=sys.stderr)
                failed.append(run.name)
                continue
            folder = write_run(run, sink.take(), list(fakes.truth.calls), versions(run))
            size = sum(path.stat().st_size for path in folder.iterdir())
            signals = sorted(path.stem for path in folder.glob("*.jsonl"))
            print(f"{folder.relative_to(REPO)}: {', '.join(signals)} ({size:,} bytes)", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
