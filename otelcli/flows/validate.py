"""`otelcli validate`: GenAI semantic-convention findings for captures or a command's output.

The rules come from a built-in table or a registry directory, the policy (levels, ignores,
required extras) from a policy file; the verdict and exit status follow from --fail-on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from otelcli.errors import ExitCode, Interrupted, OtelcliError, UsageError
from otelcli.flows import receive
from otelcli.flows.receive import Subscriber
from otelcli.genai.semconv.document import report_document
from otelcli.genai.semconv.events import EventChecker
from otelcli.genai.semconv.findings import RULES, Finding, ValidationReport
from otelcli.genai.semconv.metrics import MetricChecker
from otelcli.genai.semconv.policy import Policy, load_policy
from otelcli.genai.semconv.rules import DEFAULT_TABLE, RuleTable, load_rules, load_rules_dir
from otelcli.genai.semconv.validate import Options, Validator
from otelcli.otlp.signals import Unused

FAIL_LEVELS = ("violation", "improvement", "information", "none")


@dataclass(frozen=True)
class ValidateRequest:
    inputs: Sequence[str] = ()
    command: Sequence[str] | None = None  # run it under a local receiver instead of reading files
    semconv: str | None = None  # a built-in rule table
    registry: str | None = None  # or a semantic-conventions model directory
    config: str | None = None  # the policy file (default: found from the working directory)
    fail_on: str | None = None
    normalized: bool = False
    explain: bool = False  # list requirements whose condition a span cannot tell
    content: bool = True
    examples: int = 3
    max_findings: int = 1000
    grace_s: float = 3.0  # with a command: how long to wait for late batches
    on_finding: Callable[[Finding], None] | None = None  # each finding as it is found
    jobs: int = 1  # processes that check capture files (a command's spans: this one)


@dataclass
class ValidateResult:
    document: dict[str, Any]
    findings_fail: bool
    command_exit_code: int = 0
    error: OtelcliError | None = None
    unused: Unused = field(default_factory=Unused)  # batches of signals no check reads

    @property
    def exit_code(self) -> int:
        """3 when findings reach --fail-on (or a command sent nothing); else the command's code."""
        if self.findings_fail or not self.document["passed"] and not self.command_exit_code:
            return int(ExitCode.INVALID)
        return self.command_exit_code

    def to_dict(self) -> dict[str, Any]:
        return self.document


@dataclass(frozen=True)
class Setup:
    """What a validate run checks against, from its options and the policy file."""

    policy: Policy
    rules: RuleTable
    threshold: str  # the --fail-on level
    options: Options


def prepare(
    *,
    fail_on: str | None,
    config: str | None,
    semconv: str | None,
    registry: str | None,
    normalized: bool,
    content: bool,
    explain: bool,
) -> Setup:
    """The set-up shared by files, -- COMMAND and --from STORE."""
    if fail_on is not None and fail_on not in FAIL_LEVELS:
        raise UsageError(f"--fail-on {fail_on!r} is not one of {', '.join(FAIL_LEVELS)}")
    policy = load_policy(config, known_rules=RULES)
    options = Options(
        normalized=normalized or bool(policy.normalized),
        content=content,
        require=policy.require,
        explain=explain,
    )
    rules = rule_table(semconv or policy.semconv, registry or policy.registry)
    return Setup(policy, rules, fail_on or policy.fail_on or "violation", options)


def run(request: ValidateRequest) -> ValidateResult:
    if not request.inputs and request.command is None:
        raise UsageError(
            "nothing to validate",
            hint="give capture files (or - for stdin), or -- COMMAND to run and validate",
        )
    if request.inputs and request.command is not None:
        raise UsageError("give capture files or -- COMMAND, not both")
    setup = prepare(
        fail_on=request.fail_on,
        config=request.config,
        semconv=request.semconv,
        registry=request.registry,
        normalized=request.normalized,
        content=request.content,
        explain=request.explain,
    )
    policy, rules, threshold, options = setup.policy, setup.rules, setup.threshold, setup.options
    report = ValidationReport(
        level_for=policy.level_for,
        max_findings=request.max_findings,
        examples=request.examples,
        sink=request.on_finding,
    )
    validator = Validator(rules, report, options)
    unused = Unused()
    events, metrics = EventChecker(validator), MetricChecker(validator)
    command_info = None
    if request.command is not None:
        checking = _Checking(validator, events, metrics)
        command_info = _run_command(request.command, request.grace_s, checking)
        sources = [f"command: {' '.join(request.command)}"]
    else:
        _check_signals(request.inputs, validator, events, metrics, unused, request.jobs)
        sources = list(request.inputs)
    validator.finish()
    events.finish(validator.seen_spans)
    metrics.finish()
    document = report_document(
        report,
        rules,
        inputs=sources,
        fail_on=threshold,
        policy=policy.source,
        command=command_info,
    )
    if command_info is not None and command_info["spans"] == 0:
        document["passed"] = False
    if events.log_records or metrics.metrics:
        document["signals"] = {"logs": events.to_dict(), "metrics": metrics.to_dict()}
    if unused:
        document["not_used"] = unused.to_dict()
    return ValidateResult(
        document,
        report.fails(threshold),
        int(command_info["exit_code"]) if command_info else 0,
        unused=unused,
    )


def _check_signals(
    inputs: Sequence[str],
    validator: Validator,
    events: EventChecker,
    metrics: MetricChecker,
    unused: Unused,
    jobs: int = 1,
) -> None:
    """Spans to the span validator (in `jobs` worker processes when more than one), events
    and metrics to theirs (one report for all)."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from otelcli.flows.jobs import fewer_collections, map_ordered
    from otelcli.otlp.reader import RawBatch, as_batch, capture_readers

    def spans() -> Iterator[ExportTraceServiceRequest | RawBatch]:
        for reader in capture_readers(inputs, unused=unused):
            for batch in reader.slices() if jobs > 1 else reader:
                if isinstance(batch, (ExportTraceServiceRequest, RawBatch)):
                    yield batch
                elif isinstance(batch, ExportLogsServiceRequest):
                    events.check_batch(batch)
                else:
                    metrics.check_batch(batch)

    with fewer_collections():
        if jobs > 1:
            parts = map_ordered(spans(), lambda item: _inspected(validator, item), jobs)
            for part, span_tokens in parts:
                validator.merge(part)
                metrics.span_tokens.update(span_tokens)
        else:
            for item in spans():
                validator.check_batch(as_batch(item), metrics.add_span_usage)


def _inspected(validator: Validator, item: Any) -> tuple[Any, Counter[tuple[str, str]]]:
    """A --jobs worker's part: the batch inspected, and its spans' token usage."""
    from otelcli.genai.semconv.metrics import tally_span_usage
    from otelcli.otlp.reader import as_batch

    span_tokens: Counter[tuple[str, str]] = Counter()
    part = validator.inspect_batch(
        as_batch(item), lambda attributes: tally_span_usage(attributes, span_tokens)
    )
    return part, span_tokens


class _Checking(Subscriber):
    """Validates each batch as the command sends it: spans, events and metrics."""

    signals = frozenset({"traces", "logs", "metrics"})

    def __init__(self, validator: Validator, events: EventChecker, metrics: MetricChecker) -> None:
        self.validator = validator
        self.events = events
        self.metrics = metrics

    def batch(self, signal: str, request: Any) -> None:
        if signal == "traces":
            self.validator.check_batch(request, self.metrics.add_span_usage)
        elif signal == "logs":
            self.events.check_batch(request)
        elif signal == "metrics":
            self.metrics.check_batch(request)


def _run_command(command: Sequence[str], grace_s: float, checking: _Checking) -> dict[str, Any]:
    """Run the command under a loopback receiver, validating what it sends."""
    session = receive.run(
        receive.ReceiveRequest(command=tuple(command), grace_s=grace_s, subscriber=checking)
    )
    if session.interrupted:
        raise Interrupted(f"interrupted: validated {session.spans:,} spans")
    info: dict[str, Any] = {
        "argv": list(command),
        "exit_code": session.command_exit_code or 0,
        "batches": session.batches,
        "spans": session.spans,
        "endpoint": session.listen,
        "receiver": session.receiver,
        "grpc_endpoint": session.grpc_listen,
        "grpc_receiver": session.grpc_receiver,
    }
    if session.spans == 0:
        info["problem"] = "the command sent no spans"
    return info


def rule_table(semconv: str | None, registry: str | None) -> RuleTable:
    if registry:
        if semconv:
            raise UsageError("use --semconv or --registry, not both")
        return load_rules_dir(registry)
    return load_rules(semconv or DEFAULT_TABLE)


@dataclass
class RulesResult:
    rows: list[dict[str, Any]]
    error: OtelcliError | None = None

    def to_dict(self) -> list[dict[str, Any]]:
        return self.rows


def list_rules() -> RulesResult:
    return RulesResult(
        [
            {
                "rule": rule.id,
                "level": rule.level,
                "category": rule.category,
                "description": rule.description,
                "weaver_id": rule.weaver,
            }
            for rule in RULES.values()
        ]
    )
