"""Rewrite dialect attributes of whole batches to GenAI semconv keys, in place.

The mapping is normalize.py's (shared with cost and validate); this module only applies it
to OTLP spans and counts what changed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from otelcli.errors import UsageError
from otelcli.otlp.spans import iter_spans
from otelcli.otlp.values import fill_any_value

if TYPE_CHECKING:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from otelcli.genai.dialects.normalize import NormalizedSpan
    from otelcli.otlp.spans import SpanView


@dataclass
class NormalizeStats:
    spans: int = 0
    changed: int = 0
    dialects: Counter[str] = field(default_factory=Counter)
    renamed: Counter[str] = field(default_factory=Counter)  # "source -> target"

    def to_dict(self) -> dict[str, Any]:
        return {
            "spans": self.spans,
            "changed_spans": self.changed,
            "dialects": dict(self.dialects.most_common()),
            "renamed": dict(self.renamed.most_common()),
        }


class CaptureNormalizer:
    """Maps each span's dialect keys to semconv keys; originals kept unless `replace`."""

    def __init__(self, *, replace: bool = False, dialect: str | None = None) -> None:
        from otelcli.genai.dialects.normalize import load_dialects

        self.table = load_dialects()
        if dialect is not None and dialect not in self.table.by_id:
            raise UsageError(
                f"unknown dialect {dialect!r}",
                hint="choose one of: " + ", ".join(sorted(self.table.by_id)),
            )
        self.replace = replace
        self.dialect = dialect
        self.stats = NormalizeStats()

    def normalize_batch(self, batch: ExportTraceServiceRequest) -> ExportTraceServiceRequest:
        for view in iter_spans(batch):
            self.normalize_view(view)
        return batch

    def normalize_view(self, view: SpanView) -> NormalizedSpan:
        """Rewrite one span's attributes in place (what `normalize` writes, and what
        `validate --normalized` checks: one code path). The view's decoded attributes are
        then stale: read the span again through a new view."""
        stats = self.stats
        stats.spans += 1
        attributes = view.attributes
        result = self.table.normalize(
            attributes,
            scope_name=view.scope_name,
            span_name=view.name,
            dialect=self.dialect,
            keep_originals=not self.replace,
        )
        stats.dialects[result.dialect] += 1
        if result.attributes == attributes:
            return result
        stats.changed += 1
        for source, target in result.renamed.items():
            stats.renamed[f"{source} -> {target}"] += 1
        span_attributes = view.span.attributes
        del span_attributes[:]
        for key, value in result.attributes.items():
            fill_any_value(span_attributes.add(key=key).value, value)
        return result
