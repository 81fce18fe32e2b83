"""Captured Portkey requests -> OTLP trace batches, with every decision reported.

Each request becomes one span. Ids follow Portkey's gateway (see ids.py), so trace ids match
what Portkey shows; the original strings stay as portkey.* attributes. Parent links are
resolved inside each trace: a missing parent makes the span a root (an orphan, reported), a
cycle is broken at its earliest span (reported), and a span id used twice in one trace gets a
derived id for the second use (reported), so no record is lost and none is dropped silently.

Building a tree needs every span of a trace, so spans are held until the input ends; the
result is a list of batches of whole traces.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal
from urllib.parse import urlsplit

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span, Status

from otelcli import __version__
from otelcli.otlp.values import fill_any_value
from otelcli.portkey import bodies
from otelcli.portkey.headers import (
    METADATA,
    PARENT_SPAN_ID,
    PROVIDER,
    SPAN_ID,
    SPAN_NAME,
    TRACE_ID,
    TraceParent,
    parse_baggage,
    parse_traceparent,
)
from otelcli.portkey.ids import (
    SPAN_ID_HEX_LEN,
    TRACE_ID_HEX_LEN,
    derived_id,
    is_valid_hex_id,
    portkey_span_id,
    portkey_trace_id,
)
from otelcli.portkey.inputs import Request, Skipped, url_path
from otelcli.redact import REDACTED, is_secret_name

SCOPE_NAME = "otelcli.portkey"
DEFAULT_SPAN_NAME = "llm"  # what Portkey's gateway logs when no span name was sent
# Requests without any timing are laid out from here, 1 ms apart (2024-01-01T00:00:00Z), so
# the same input always gives the same output.
DEFAULT_UNTIMED_BASE_NS = 1_704_067_200 * 1_000_000_000
_UNTIMED_STEP_NS = 1_000_000

# Metadata fields that carry tracing or timing, not user metadata.
_CONTROL_METADATA = {
    "traceId", "spanId", "spanName", "parentSpanId", "trace_id", "span_id", "span_name",
    "parent_span_id", "startTime", "endTime",
}  # fmt: skip

_TRACING_HEADERS = (TRACE_ID, SPAN_ID, PARENT_SPAN_ID, SPAN_NAME, METADATA)

SpanNameStyle = Literal["semconv", "portkey"]


@dataclass(frozen=True)
class BuildOptions:
    content: bool = False  # message content (opt-in, as the GenAI conventions ask)
    span_names: SpanNameStyle = "semconv"  # "{operation} {model}" for LLM calls, or Portkey's
    service_name: str = "portkey"
    untimed_base_ns: int | None = None  # where untimed requests start; None = deterministic
    batch_size: int = 512  # spans per batch (a larger trace stays whole)


@dataclass(frozen=True)
class Note:
    """One reported event: where it happened and what was done."""

    source: str
    message: str


@dataclass
class BuildSummary:
    records_read: int = 0
    spans_made: int = 0
    traces: int = 0
    remote_parents: int = 0  # parents from a traceparent, kept as links to the caller's span
    estimated_timing: int = 0  # spans placed by the deterministic fallback
    orphans: list[Note] = field(default_factory=list)
    cycles_broken: list[Note] = field(default_factory=list)
    duplicates: list[Note] = field(default_factory=list)
    skipped: list[Note] = field(default_factory=list)
    warnings: list[Note] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def notes(items: list[Note]) -> list[dict[str, str]]:
            return [{"source": n.source, "message": n.message} for n in items]

        return {
            "records_read": self.records_read,
            "spans_made": self.spans_made,
            "traces": self.traces,
            "remote_parents": self.remote_parents,
            "estimated_timing": self.estimated_timing,
            "orphans": notes(self.orphans),
            "cycles_broken": notes(self.cycles_broken),
            "duplicates": notes(self.duplicates),
            "skipped": notes(self.skipped),
            "warnings": notes(self.warnings),
        }


@dataclass
class BuildResult:
    batches: list[ExportTraceServiceRequest]
    summary: BuildSummary


@dataclass
class _Draft:
    """One span before its tree is known."""

    source: str
    order: int
    trace_id: str
    span_id: str
    parent_id: str | None
    parent_is_remote: bool
    raw_parent: str | None
    name: str
    kind: int
    start_ns: int | None
    duration_ns: int | None
    attributes: dict[str, Any]
    status_code: int = Status.STATUS_CODE_UNSET
    status_message: str = ""


# ---------------------------------------------------------------------------------------------
# public entry point


def build(items: Iterable[Request | Skipped], options: BuildOptions | None = None) -> BuildResult:
    """Turn requests into OTLP batches; everything not turned into a span is in the summary.

    `items` is consumed once (a stream from inputs.read_inputs is fine); the spans are held
    until it ends, because a parent may arrive after its children.
    """
    options = options or BuildOptions()
    summary = BuildSummary()
    traces: dict[str, list[_Draft]] = {}
    for item in items:
        summary.records_read += 1
        if isinstance(item, Skipped):
            summary.skipped.append(Note(item.source, item.reason))
            continue
        draft = _draft_span(item, summary.records_read, options, summary.warnings)
        if isinstance(draft, Note):
            summary.skipped.append(draft)
            continue
        traces.setdefault(draft.trace_id, []).append(draft)

    _place_untimed(traces, options, summary)
    ordered: list[list[_Draft]] = []
    for drafts in traces.values():
        _resolve_duplicates(drafts, summary)
        _resolve_parents(drafts, summary)
        _break_cycles(drafts, summary)
        ordered.append(_tree_order(drafts))
    summary.traces = len(ordered)
    summary.spans_made = sum(len(t) for t in ordered)
    return BuildResult(batches=list(_batches(ordered, options)), summary=summary)


# ---------------------------------------------------------------------------------------------
# one request -> one draft span


def _draft_span(
    request: Request, order: int, options: BuildOptions, warnings: list[Note]
) -> _Draft | Note:
    headers = request.headers
    response_headers = request.response.headers if request.response else {}
    path = url_path(request.url)
    operation, api_type = bodies.operation_of(path, request.body)
    traceparent = parse_traceparent(headers.get("traceparent"))
    traced = any(name in headers for name in _TRACING_HEADERS) or bool(request.log_fields)
    if not (traced or traceparent or operation):
        return Note(
            request.source,
            "not a traced LLM request (no x-portkey trace headers, traceparent or LLM body)",
        )

    ids = _trace_fields(request, path, traceparent, warnings)
    attrs: dict[str, Any] = dict(ids.attributes)
    attrs.update(_metadata_attributes(request, warnings))
    provider_attrs = _provider_attributes(request)
    attrs.update(_response_header_attributes(response_headers))
    attrs.update(_http_attributes(request))

    name = ids.span_name
    kind = Span.SPAN_KIND_CLIENT if request.url or operation else Span.SPAN_KIND_INTERNAL
    if operation:
        model = bodies.request_model(request.body)
        attrs["gen_ai.operation.name"] = operation
        if api_type and provider_attrs.get("gen_ai.provider.name") in ("openai", "azure.ai.openai"):
            attrs["openai.api.type"] = api_type
        attrs.update(provider_attrs)
        if model and model.startswith("@") and "/" in model:
            attrs["portkey.model"] = model  # a Model Catalog slug: "@provider/model"
            model = model.split("/", 1)[1]
        _set(attrs, "gen_ai.request.model", model)
        attrs.update(bodies.request_attributes(operation, request.body))
        response_body = _response_body(request)
        attrs.update(bodies.response_attributes(response_body))
        if attrs.get("gen_ai.request.stream") and request.first_byte_ns is not None:
            attrs["gen_ai.response.time_to_first_chunk"] = request.first_byte_ns / 1e9
        if options.content:
            attrs.update(bodies.content_attributes(operation, request.body, response_body))
        if options.span_names == "semconv":
            name = f"{operation} {model}" if model else operation
    else:
        _set(attrs, "portkey.provider", provider_attrs.get("portkey.provider"))

    if "user.id" not in attrs and isinstance(request.body, Mapping):
        user = request.body.get("user")
        if isinstance(user, str) and user:
            attrs["user.id"] = user  # Portkey's own fallback for _user

    status_code, status_message = Status.STATUS_CODE_UNSET, ""
    status = request.response.status if request.response else None
    if status is not None and status >= 400:
        status_code = Status.STATUS_CODE_ERROR
        attrs["error.type"] = str(status)
        status_message = _error_summary(status, _response_body(request))

    return _Draft(
        source=request.source,
        order=order,
        trace_id=ids.trace_id,
        span_id=ids.span_id,
        parent_id=ids.parent_id,
        parent_is_remote=ids.parent_is_remote,
        raw_parent=ids.raw_parent,
        name=name,
        kind=kind,
        start_ns=request.start_ns,
        duration_ns=request.duration_ns,
        attributes={k: v for k, v in attrs.items() if v is not None},
        status_code=status_code,
        status_message=status_message,
    )


@dataclass
class _TraceFields:
    trace_id: str
    span_id: str
    parent_id: str | None
    parent_is_remote: bool  # both trace and parent came from a traceparent
    raw_parent: str | None
    span_name: str  # the name Portkey shows
    attributes: dict[str, Any]  # portkey.trace_id, .span_id, .parent_span_id, .span_name


def _trace_fields(
    request: Request, path: str, traceparent: TraceParent | None, warnings: list[Note]
) -> _TraceFields:
    """Trace, span and parent ids as the gateway derives them: Portkey headers, then the log
    record's fields, then a valid traceparent, then the trace id the gateway echoed."""
    headers, fields = request.headers, request.log_fields
    response_headers = request.response.headers if request.response else {}
    raw_trace = headers.get(TRACE_ID) or fields.get("trace_id")
    raw_span = headers.get(SPAN_ID) or fields.get("span_id")
    raw_parent = headers.get(PARENT_SPAN_ID) or fields.get("parent_span_id")
    raw_name = headers.get(SPAN_NAME) or fields.get("span_name")
    trace_from_traceparent = parent_from_traceparent = False
    if traceparent is not None:  # each only where the Portkey header is absent
        if (str(raw_trace).lower(), str(raw_parent).lower()) == (
            traceparent.trace_id.lower(),
            traceparent.parent_span_id.lower(),
        ):  # the headers repeat the traceparent (`otelcli portkey headers`): the caller's
            trace_from_traceparent = parent_from_traceparent = True
        if not raw_trace:
            raw_trace, trace_from_traceparent = traceparent.trace_id, True
        if not raw_parent:
            raw_parent, parent_from_traceparent = traceparent.parent_span_id, True
        if not raw_name:
            raw_name = f"{(request.method or 'POST').upper()} {path or '/'}"
    if not raw_trace:
        raw_trace = response_headers.get(TRACE_ID)  # the id the gateway generated

    trace_id = portkey_trace_id(raw_trace)
    if trace_id is None or not is_valid_hex_id(trace_id, TRACE_ID_HEX_LEN):
        if raw_trace:
            warnings.append(Note(request.source, f"trace id {raw_trace!r} maps to zeros; derived"))
        trace_id = derived_id(f"trace\x00{request.source}", TRACE_ID_HEX_LEN)
    span_id = portkey_span_id(raw_span)
    if span_id is None or not is_valid_hex_id(span_id, SPAN_ID_HEX_LEN):
        span_id = derived_id(f"span\x00{request.source}", SPAN_ID_HEX_LEN)
    parent_id = portkey_span_id(raw_parent)
    if parent_id is not None and not is_valid_hex_id(parent_id, SPAN_ID_HEX_LEN):
        parent_id = None
    span_name = raw_name or DEFAULT_SPAN_NAME
    attributes: dict[str, Any] = {}
    _set(attributes, "portkey.trace_id", raw_trace)
    _set(attributes, "portkey.span_id", raw_span)
    _set(attributes, "portkey.parent_span_id", raw_parent)
    attributes["portkey.span_name"] = span_name
    return _TraceFields(
        trace_id=trace_id,
        span_id=span_id,
        parent_id=parent_id,
        parent_is_remote=trace_from_traceparent and parent_from_traceparent,
        raw_parent=raw_parent,
        span_name=span_name,
        attributes=attributes,
    )


def _response_body(request: Request) -> Any:
    body = request.response.body if request.response else None
    if isinstance(body, str) and ("data:" in body[:200] or body.lstrip().startswith("event:")):
        return bodies.aggregate_stream(body)
    return body


def _error_summary(status: int, body: Any) -> str:
    """HTTP status plus the provider's error code or type; never the free-text message,
    which can echo parts of a key."""
    error = body.get("error") if isinstance(body, Mapping) else None
    code = None
    if isinstance(error, Mapping):
        code = error.get("code") or error.get("type")
    elif isinstance(body, Mapping) and isinstance(body.get("type"), str):
        code = body.get("type")
    return f"HTTP {status}" + (f" {code}" if isinstance(code, (str, int)) and code else "")


# ---------------------------------------------------------------------------------------------
# attribute groups


@cache
def _table() -> dict[str, Any]:
    text = resources.files("otelcli").joinpath("data/portkey.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _metadata_attributes(request: Request, warnings: list[Note]) -> dict[str, Any]:
    """Baggage < log metadata < x-portkey-metadata (explicit wins), reserved keys mapped."""
    merged: dict[str, Any] = dict(parse_baggage(request.headers.get("baggage")))
    for key, value in request.log_metadata.items():
        if key not in _CONTROL_METADATA:
            merged[key] = value
    raw = request.headers.get(METADATA)
    if raw:
        try:
            explicit = json.loads(raw)
        except ValueError:
            explicit = None
        if isinstance(explicit, dict):
            merged.update(explicit)
        else:
            warnings.append(
                Note(request.source, "x-portkey-metadata is not a JSON object; ignored")
            )
    reserved: Mapping[str, str] = _table()["metadata"]
    attrs: dict[str, Any] = {}
    for key, value in merged.items():
        if value is None or is_secret_name(str(key)):
            continue
        target = reserved.get(str(key)) or _metadata_key(str(key))
        if target:
            attrs[target] = _metadata_value(value)
    return attrs


def _metadata_key(key: str) -> str | None:
    """portkey.metadata.<key> in the attribute-name form (lower snake case, dots kept)."""
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()
    segments = [re.sub(r"[^a-z0-9]+", "_", s).strip("_") for s in snake.split(".")]
    segments = [s for s in segments if s]
    return "portkey.metadata." + ".".join(segments) if segments else None


def _metadata_value(value: Any) -> Any:
    if isinstance(value, (str, bool, int, float)):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _provider_attributes(request: Request) -> dict[str, Any]:
    """gen_ai.provider.name (and the raw Portkey slug) from wherever the request names it."""
    table = _table()
    headers = request.headers
    response_headers = request.response.headers if request.response else {}
    slug = (
        headers.get(PROVIDER)
        or request.provider
        or _provider_from_config(headers.get("x-portkey-config"))
        or _provider_from_mode(headers.get("x-portkey-mode"))
        or response_headers.get(PROVIDER)
    )
    if slug == REDACTED:
        slug = None
    model = bodies.request_model(request.body)
    if not slug and model and model.startswith("@") and "/" in model:
        slug = model[1:].split("/", 1)[0]
    attrs: dict[str, Any] = {}
    if slug:
        attrs["portkey.provider"] = slug
        attrs["gen_ai.provider.name"] = _map_slug(slug, table["providers"])
        return attrs
    host = _host(request.url)
    for suffix, provider in table["hosts"].items():
        if host == suffix or host.endswith("." + suffix):
            attrs["gen_ai.provider.name"] = provider
            return attrs
    if model:
        for prefix, provider in table["model_prefixes"].items():
            if model.startswith(prefix):
                attrs["gen_ai.provider.name"] = provider
                break
    return attrs


def _map_slug(slug: str, providers: Mapping[str, str]) -> str:
    """A Portkey provider slug (or a Model Catalog slug like @openai-prod) -> provider name."""
    clean = slug.strip().lstrip("@").lower()
    if clean in providers:
        return providers[clean]
    # "@openai-prod", "azure-openai-eu": the longest known slug the name starts with.
    matches = [k for k in providers if clean.startswith(k + "-") or clean.startswith(k + "/")]
    if matches:
        return providers[max(matches, key=len)]
    return re.sub(r"[^a-z0-9.]+", "_", clean).strip("_") or clean


def _provider_from_config(raw: str | None) -> str | None:
    if not raw or not raw.lstrip().startswith("{"):
        return None  # a saved config id (pc-...) says nothing about the provider here
    try:
        config = json.loads(raw)
    except ValueError:
        return None
    for candidate in [config, *(config.get("targets") or [])] if isinstance(config, dict) else []:
        if isinstance(candidate, dict) and isinstance(candidate.get("provider"), str):
            provider: str = candidate["provider"]
            return provider
    return None


def _provider_from_mode(raw: str | None) -> str | None:
    parts = (raw or "").split()
    return parts[1] if len(parts) == 2 and parts[0] == "proxy" else None


def _response_header_attributes(headers: Mapping[str, str]) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    _set(attrs, "portkey.cache_status", headers.get("x-portkey-cache-status"))
    retries = headers.get("x-portkey-retry-attempt-count", "").strip()
    if retries.isdigit():
        attrs["portkey.retry_count"] = int(retries)
    _set(attrs, "portkey.last_used_option_index", headers.get("x-portkey-last-used-option-index"))
    _set(attrs, "portkey.request_id", headers.get("x-portkey-request-id"))
    return attrs


def _http_attributes(request: Request) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if not request.url:
        return attrs  # a log record without the request's URL: its envelope says nothing
    try:
        parts = urlsplit(request.url)
        port = parts.port
    except ValueError:
        return attrs
    if parts.hostname:
        attrs["server.address"] = parts.hostname
        attrs["server.port"] = port or (80 if parts.scheme == "http" else 443)
    _set(attrs, "http.request.method", request.method.upper() if request.method else None)
    if request.response and request.response.status is not None:
        attrs["http.response.status_code"] = request.response.status
    return attrs


def _host(url: str | None) -> str:
    try:
        return (urlsplit(url).hostname or "") if url else ""
    except ValueError:
        return ""


def _set(attrs: dict[str, Any], key: str, value: Any) -> None:
    if value not in (None, ""):
        attrs[key] = value


# ---------------------------------------------------------------------------------------------
# trees


def _place_untimed(
    traces: dict[str, list[_Draft]], options: BuildOptions, summary: BuildSummary
) -> None:
    """Give requests without a timestamp a deterministic place: after the earliest known start
    (or a fixed base), 1 ms apart in reading order."""
    drafts = sorted((d for t in traces.values() for d in t), key=lambda d: d.order)
    known = [d.start_ns for d in drafts if d.start_ns is not None]
    base = options.untimed_base_ns or (min(known) if known else DEFAULT_UNTIMED_BASE_NS)
    step = 0
    for draft in drafts:
        if draft.start_ns is None:
            draft.start_ns = base + step * _UNTIMED_STEP_NS
            step += 1
            summary.estimated_timing += 1


def _resolve_duplicates(drafts: list[_Draft], summary: BuildSummary) -> None:
    first_use: dict[str, _Draft] = {}
    for draft in drafts:
        original = first_use.get(draft.span_id)
        if original is None:
            first_use[draft.span_id] = draft
            continue
        new_id = draft.span_id
        attempt = 1
        while new_id in first_use:
            attempt += 1
            new_id = derived_id(f"{draft.span_id}#{attempt}", SPAN_ID_HEX_LEN)
        summary.duplicates.append(
            Note(
                draft.source,
                f"span id {draft.attributes.get('portkey.span_id', draft.span_id)!r} already used "
                f"in trace {draft.trace_id} by {original.source}; this span is {new_id}",
            )
        )
        draft.span_id = new_id
        first_use[new_id] = draft


def _resolve_parents(drafts: list[_Draft], summary: BuildSummary) -> None:
    ids = {d.span_id for d in drafts}
    for draft in drafts:
        if draft.parent_id is None or draft.parent_id in ids:
            continue
        if draft.parent_is_remote:
            summary.remote_parents += 1  # the caller's span lives in the caller's own telemetry
            continue
        summary.orphans.append(
            Note(
                draft.source,
                f"parent span {draft.raw_parent!r} not found in trace {draft.trace_id}; "
                "made a root",
            )
        )
        draft.parent_id = None


def _break_cycles(drafts: list[_Draft], summary: BuildSummary) -> None:
    by_id = {d.span_id: d for d in drafts}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in drafts:
        path: list[_Draft] = []
        node: _Draft | None = start
        while node is not None and state.get(node.span_id) is None:
            state[node.span_id] = 1
            path.append(node)
            node = by_id.get(node.parent_id) if node.parent_id else None
        if node is not None and state.get(node.span_id) == 1:
            cycle = path[path.index(node) :]
            cut = min(cycle, key=lambda d: (d.start_ns or 0, d.order))
            members = " -> ".join(d.attributes.get("portkey.span_id", d.span_id) for d in cycle)
            summary.cycles_broken.append(
                Note(cut.source, f"parent cycle {members} in trace {cut.trace_id}; made a root")
            )
            cut.parent_id = None
        for visited in path:
            state[visited.span_id] = 2


def _tree_order(drafts: list[_Draft]) -> list[_Draft]:
    """Parents before children, siblings by start time, so a reader can stream the tree."""
    children: dict[str | None, list[_Draft]] = {}
    ids = {d.span_id for d in drafts}
    for draft in drafts:
        parent = draft.parent_id if draft.parent_id in ids else None
        children.setdefault(parent, []).append(draft)
    for group in children.values():
        group.sort(key=lambda d: (d.start_ns or 0, d.order))
    ordered: list[_Draft] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        draft = stack.pop()
        ordered.append(draft)
        stack.extend(reversed(children.get(draft.span_id, [])))
    return ordered


# ---------------------------------------------------------------------------------------------
# OTLP


def _batches(
    traces: list[list[_Draft]], options: BuildOptions
) -> Iterable[ExportTraceServiceRequest]:
    pending: list[list[_Draft]] = []
    size = 0
    for trace in traces:
        if pending and size + len(trace) > options.batch_size:
            yield _request(pending, options)
            pending, size = [], 0
        pending.append(trace)
        size += len(trace)
    if pending:
        yield _request(pending, options)


def _request(traces: list[list[_Draft]], options: BuildOptions) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans: ResourceSpans = request.resource_spans.add()
    fill_any_value(
        resource_spans.resource.attributes.add(key="service.name").value, options.service_name
    )
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = SCOPE_NAME
    scope_spans.scope.version = __version__
    for trace in traces:
        for draft in trace:
            _fill_span(scope_spans.spans.add(), draft)
    return request


def _fill_span(span: Span, draft: _Draft) -> None:
    span.trace_id = bytes.fromhex(draft.trace_id)
    span.span_id = bytes.fromhex(draft.span_id)
    if draft.parent_id:
        span.parent_span_id = bytes.fromhex(draft.parent_id)
    span.name = draft.name
    span.kind = draft.kind  # type: ignore[assignment]
    start = draft.start_ns or 0
    span.start_time_unix_nano = start
    span.end_time_unix_nano = start + max(draft.duration_ns or 0, 0)
    for key, value in draft.attributes.items():
        fill_any_value(span.attributes.add(key=key).value, value)
    span.status.code = draft.status_code  # type: ignore[assignment]
    if draft.status_message:
        span.status.message = draft.status_message
