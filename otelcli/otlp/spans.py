"""A light, read-only view of one span with its resource and scope, for the domain code.

Resource attributes are converted once per ResourceSpans and shared by its spans; span
attributes are converted on first use.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from otelcli.otlp.values import AttrValue, attributes_to_dict

if TYPE_CHECKING:
    from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
    from opentelemetry.proto.trace.v1.trace_pb2 import Span

    from otelcli.otlp.signals import Batch

SPAN_KIND_NAMES = ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
STATUS_NAMES = ("UNSET", "OK", "ERROR")
STATUS_UNSET, STATUS_OK, STATUS_ERROR = 0, 1, 2


def status_name(code: int) -> str:
    """UNSET, OK or ERROR; the number itself for a code the spec does not define."""
    return STATUS_NAMES[code] if 0 <= code < len(STATUS_NAMES) else str(code)


class SpanView:
    __slots__ = ("resource_attributes", "scope", "span", "_attributes")

    def __init__(
        self,
        resource_attributes: Mapping[str, AttrValue],
        scope: InstrumentationScope,
        span: Span,
    ) -> None:
        self.resource_attributes = resource_attributes
        self.scope = scope
        self.span = span
        self._attributes: dict[str, AttrValue] | None = None

    @property
    def attributes(self) -> dict[str, AttrValue]:
        if self._attributes is None:
            self._attributes = attributes_to_dict(self.span.attributes)
        return self._attributes

    @property
    def trace_id(self) -> str:
        return self.span.trace_id.hex()

    @property
    def span_id(self) -> str:
        return self.span.span_id.hex()

    @property
    def parent_span_id(self) -> str:
        return self.span.parent_span_id.hex()

    @property
    def name(self) -> str:
        return self.span.name

    @property
    def kind(self) -> int:
        return self.span.kind

    @property
    def kind_name(self) -> str:
        kind = self.span.kind
        return SPAN_KIND_NAMES[kind] if 0 <= kind < len(SPAN_KIND_NAMES) else str(kind)

    @property
    def start_ns(self) -> int:
        return self.span.start_time_unix_nano

    @property
    def end_ns(self) -> int:
        return self.span.end_time_unix_nano

    @property
    def duration_ns(self) -> int:
        return self.span.end_time_unix_nano - self.span.start_time_unix_nano

    @property
    def status_code(self) -> int:
        return self.span.status.code

    @property
    def status_message(self) -> str:
        return self.span.status.message

    @property
    def service_name(self) -> str:
        name = self.resource_attributes.get("service.name")
        return name if isinstance(name, str) else "unknown_service"

    @property
    def scope_name(self) -> str:
        return self.scope.name

    def __repr__(self) -> str:
        return f"SpanView({self.name!r}, trace={self.trace_id}, span={self.span_id})"


def iter_spans(batch: Batch) -> Iterator[SpanView]:
    """The spans of a batch (none in a logs or metrics batch)."""
    for resource_spans in getattr(batch, "resource_spans", ()):
        resource_attributes = attributes_to_dict(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            for span in scope_spans.spans:
                yield SpanView(resource_attributes, scope, span)


def count_spans(batch: Batch) -> int:
    """The spans in a batch (0 in a logs or metrics batch)."""
    return sum(
        len(ss.spans) for rs in getattr(batch, "resource_spans", ()) for ss in rs.scope_spans
    )
