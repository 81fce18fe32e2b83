"""Regenerate otelcli/data/semconv/*.json from semantic-conventions model directories.

    python scripts/build_semconv_rules.py [--reference DIR] [--check]

DIR holds the model checkouts (default: ../shared/reference/semconv next to the repository):
`genai/model` (semantic-conventions-genai, the current registry), `core-v1.41.1/model` (the
last core release that held the GenAI conventions) and `core/model` (core attributes the GenAI
spans reference: server.*, error.type, ...). --check compares instead of writing and exits 1
when a table is out of date. Needs PyYAML (`pip install -e '.[registry]'`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from otelcli.genai.semconv.registry import build_rules  # noqa: E402

OUT = REPO / "otelcli" / "data" / "semconv"
# Core registries that lend definitions to the GenAI spans (never core's own gen-ai/, mcp/,
# openai/ directories, which only carry "moved" deprecations now).
CORE_DIRS = ("server", "client", "error", "exceptions", "network", "jsonrpc", "rpc", "aws", "azure")


def build_all(reference: Path) -> dict[str, dict[str, Any]]:
    """file name -> rule table, for every built-in table."""
    core = [reference / "core" / "model" / name for name in CORE_DIRS]
    old_deprecations = reference / "core-v1.41.1" / "model" / "gen-ai" / "deprecated"
    return {
        "gen-ai-dev-1.42.json": build_rules(
            [reference / "genai" / "model"],
            table_id="gen-ai-dev-1.42",
            title="semantic-conventions-genai (gen-ai-dev 1.42.0-dev)",
            supplements=[*core, old_deprecations],
        ),
        "v1.41.1.json": build_rules(
            [reference / "core-v1.41.1" / "model"],
            table_id="v1.41.1",
            title="semantic-conventions v1.41.1 (last core release with GenAI)",
            supplements=core,
        ),
    }


def render(table: dict[str, Any]) -> str:
    return json.dumps(table, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=REPO.parent / "shared/reference/semconv")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    stale = 0
    for name, table in build_all(args.reference).items():
        path = OUT / name
        text = render(table)
        if args.check:
            if not path.is_file() or path.read_text("utf-8") != text:
                print(f"out of date: {path.relative_to(REPO)}")
                stale += 1
            continue
        OUT.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        print(
            f"wrote {path.relative_to(REPO)}: {len(table['attributes'])} attributes, "
            f"{len(table['spans'])} span types, {len(table['refinements'])} refinements"
        )
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
