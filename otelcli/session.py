"""The receiving session behind `tail` and `capture`.

Receivers (OTLP/HTTP, optionally gRPC) or a followed file feed one queue; each batch goes to the
save file, the forwarder and the view. It also runs the command given after `--` and stops when
it exits. It drives an Output (the live view, notices), so it sits beside the commands rather
than in the core, and both commands share it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from otelcli.errors import ExitCode, OutputError, UsageError

if TYPE_CHECKING:
    from otelcli.otlp.traces import SpanFilter
    from otelcli.render.output import Output
    from otelcli.transport.config import ExporterConfig


@dataclass
class SessionResult:
    listen: str | None = None
    grpc_listen: str | None = None
    source: str | None = None
    batches: int = 0
    spans: int = 0
    receiver: dict[str, Any] = field(default_factory=dict)
    grpc_receiver: dict[str, Any] = field(default_factory=dict)
    saved: dict[str, Any] | None = None
    save_error: OutputError | None = None
    forward: dict[str, Any] | None = None
    command_exit_code: int | None = None
    interrupted: bool = False
    exit_code: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "listen": self.listen,
            "grpc_listen": self.grpc_listen,
            "source": self.source,
            "batches": self.batches,
            "spans": self.spans,
            "receiver": self.receiver,
            "grpc_receiver": self.grpc_receiver,
            "saved": self.saved,
            "forward": self.forward,
            "command_exit_code": self.command_exit_code,
            "interrupted": self.interrupted,
        }


@dataclass
class SessionPlan:
    out: Output
    view: str | None  # live, tree, ndjson, or None (capture: no view)
    listen: str | None = None
    auth_token: str | None = None
    max_body_bytes: int = 64 << 20
    grpc: bool | None = None  # None: on when grpcio is installed
    grpc_listen: str | None = None
    file: str | None = None
    follow: bool = False
    save: str | None = None
    save_format: str | None = None
    forward: ExporterConfig | None = None
    command: list[str] = field(default_factory=list)
    run_for: float | None = None
    span_filter: SpanFilter | None = None
    attrs: list[str] = field(default_factory=list)
    max_traces: int = 100
    idle_s: float = 2.0
    pricing: str | None = None


def run_session(plan: SessionPlan) -> SessionResult:
    """Receive (or read) batches and hand each to the save file, the forwarder and the view."""
    import queue
    import threading

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from otelcli.otlp.spans import count_spans

    out = plan.out
    result = SessionResult()
    items: queue.SimpleQueue[Any] = queue.SimpleQueue()
    stop_requested = threading.Event()
    receiver = None
    grpc_receiver = None
    _check_grpc_options(plan)
    saver = _Saver(plan, items) if plan.save is not None else None
    if plan.file is None:
        on_traces = saver.keep if saver is not None else items.put
        receiver = _make_receiver(plan, items, on_traces)
        grpc_receiver = _make_grpc_receiver(plan, items, receiver.host, receiver.port, on_traces)
    else:
        result.source = plan.file
    if receiver is not None and plan.forward is not None:
        _refuse_loop(plan.forward, receiver.url)
    view = _make_view(plan, receiver, lambda: grpc_receiver)
    forwarder = None
    child = None
    stop_reading = threading.Event()
    restore_signals = _stop_on_signals(stop_requested)
    try:
        if saver is not None and receiver is None:
            saver.open()
        if plan.forward is not None:
            from otelcli.transport.forward import Forwarder

            forwarder = Forwarder(plan.forward)
        if receiver is not None:
            receiver.start()
            result.listen = receiver.url
            if grpc_receiver is not None:
                grpc_receiver = _start_grpc(plan, grpc_receiver)
            if grpc_receiver is not None:
                result.grpc_listen = grpc_receiver.url
            if saver is not None:
                # Only now: a taken port must not have emptied the file already. A request
                # that came in the meantime was answered 503 and is sent again.
                saver.open()
            if plan.view != "live":
                also = f" and OTLP/gRPC on {result.grpc_listen}" if result.grpc_listen else ""
                out.notice(f"otelcli: receiving OTLP/HTTP on {receiver.url}{also} (Ctrl-C to stop)")
        if plan.command:
            from otelcli.transport.receiver import start_command

            assert receiver is not None
            grpc_env = {"OTELCLI_GRPC_ENDPOINT": result.grpc_listen} if result.grpc_listen else {}
            child = start_command(plan.command, receiver.url, plan.auth_token, grpc_env)
        reading_done = threading.Event()
        if plan.file is not None:
            _start_reader(plan, items, stop_reading, reading_done)
        view_started = view() if view is not None else None

        def handle(item: Any) -> None:
            if isinstance(item, ExportTraceServiceRequest):
                result.batches += 1
                result.spans += count_spans(item)
                if saver is not None and receiver is None:
                    saver.write(item)  # read from --file: nobody to retry, so a failure stops
                if forwarder is not None:
                    forwarder.submit(item)
                if view_started is not None:
                    view_started.add_batch(item)
            elif isinstance(item, BaseException):
                raise item
            elif isinstance(item, _SaveFailed):
                if item.error is None:
                    out.notice(f"otelcli: {plan.save} takes batches again")
                else:
                    out.warning(
                        f"{item.error.message}: batches are refused (HTTP 503, gRPC "
                        f"UNAVAILABLE) so that senders keep them and retry; {item.error.hint}"
                    )
            elif view_started is not None:
                view_started.add_logs(item)

        def pump(wait_s: float) -> None:
            try:
                handle(items.get(timeout=wait_s))
            except queue.Empty:
                return
            deadline = time.monotonic() + 0.05
            while time.monotonic() < deadline:
                try:
                    handle(items.get_nowait())
                except queue.Empty:
                    return

        def drain() -> None:
            while True:
                try:
                    handle(items.get_nowait())
                except queue.Empty:
                    return

        stop_at = None if plan.run_for is None else time.monotonic() + plan.run_for
        try:
            while True:
                pump(0.1)
                if view_started is not None:
                    view_started.tick()
                if child is not None and child.poll() is not None:
                    break
                if reading_done.is_set() and items.empty():
                    break
                if stop_at is not None and time.monotonic() >= stop_at:
                    break
                if stop_requested.is_set():
                    result.interrupted = True
                    break
        except KeyboardInterrupt:
            result.interrupted = True
        stop_reading.set()
        if child is not None:
            result.command_exit_code = _wait_child(child)
            child = None
        if receiver is not None:
            receiver.stop()  # requests in flight finish first
            result.receiver = receiver.stats.to_dict()
        if grpc_receiver is not None:
            grpc_receiver.stop()
            result.grpc_receiver = grpc_receiver.stats.to_dict()
        drain()
        if view_started is not None:
            view_started.close()
    finally:
        restore_signals()
        stop_reading.set()
        if child is not None:
            _wait_child(child, grace_s=0)
        if receiver is not None:
            receiver.stop()
        if grpc_receiver is not None:
            grpc_receiver.stop()
        if saver is not None:
            result.saved = saver.close()  # every acknowledged batch is in it already
            result.save_error = saver.failure
        if forwarder is not None:
            finished = forwarder.close(timeout_s=30)
            result.forward = _forward_report(forwarder, finished)
    result.exit_code = _exit_code(result, forwarder)
    return result


@dataclass
class _SaveFailed:
    """Queued for the main loop, which warns at once: the save file could not take a batch."""

    error: OutputError | None  # None: it takes batches again


class _Saver:
    """The save file of a session, streamed: every batch is written whole before the receiver
    acknowledges it (the callback runs before the 200 / gRPC OK), so what a sender was told
    is kept is in the file, whatever happens to otelcli afterwards. A batch that cannot be
    written is cut off again and refused with ConsumerUnavailable (503 with Retry-After, gRPC
    UNAVAILABLE): the sender keeps it and retries, and the file stays valid."""

    def __init__(self, plan: SessionPlan, items: Any) -> None:
        import threading

        from otelcli.otlp.formats import Format, format_for_path

        assert plan.save is not None
        self.path = plan.save
        self.save_format = plan.save_format
        self.items = items
        from otelcli.otlp.writer import check_streamable

        fmt, _ = format_for_path(self.path, Format.parse(self.save_format))
        check_streamable(self.path, fmt)  # before anything starts
        if plan.file is not None and _same_file(plan.file, self.path):
            raise UsageError(
                f"--save {self.path} is the file being read",
                hint="save to another file: the save file is written as batches arrive",
            )
        self.writer: Any = None
        self.failure: OutputError | None = None
        self.refused_batches = 0
        self.refused_spans = 0
        self._lock = threading.Lock()
        self._failing = False

    def open(self) -> None:
        from otelcli.otlp.writer import open_writer

        writer = open_writer(self.path, self.save_format, stream=True)
        with self._lock:
            self.writer = writer

    def write(self, batch: Any) -> None:
        """Write one batch; OutputError when it cannot be (nothing of it stays in the file)."""
        with self._lock:
            self._write(batch)

    def _write(self, batch: Any) -> None:
        if self.writer is None:
            from otelcli.transport.receiver import ConsumerUnavailable

            raise ConsumerUnavailable("the save file is not open (yet, or any more)")
        self.writer.write(batch)

    def keep(self, batch: Any) -> None:
        """The receiver's callback: in the file, then queued for the view and the forwarder."""
        from otelcli.transport.receiver import ConsumerUnavailable

        with self._lock:
            try:
                self._write(batch)
            except OutputError as exc:
                from otelcli.otlp.spans import count_spans

                if not self._failing or self.failure is None or self.failure.message != exc.message:
                    self.items.put(_SaveFailed(exc))
                self.failure = exc
                self._failing = True
                self.refused_batches += 1
                self.refused_spans += count_spans(batch)
                raise ConsumerUnavailable(f"{exc.message} (retry later)") from None
            if self._failing:
                self._failing = False
                self.items.put(_SaveFailed(None))
            self.items.put(batch)

    def close(self) -> dict[str, Any] | None:
        with self._lock:
            writer, self.writer = self.writer, None
        if writer is None:
            return None
        try:
            writer.close()
        except OutputError as exc:
            self.failure = exc
        return {
            "path": writer.path,
            "format": writer.format.value,
            "compressed": writer.compressed,
            "batches": writer.batches,
            "bytes": writer.bytes_written,
            "refused_batches": self.refused_batches,
            "refused_spans": self.refused_spans,
            "error": self.failure.message if self.failure is not None else None,
        }


def _same_file(one: str, other: str) -> bool:
    import os

    try:
        return one != "-" and other != "-" and os.path.samefile(one, other)
    except OSError:
        return False


def _stop_on_signals(stop: Any) -> Any:
    """Ctrl-C and SIGTERM (docker stop, CI timeouts) set `stop`; the loop then ends cleanly.

    An exception raised from a signal handler could land between taking a batch off the
    queue and handling it, losing an acknowledged batch: so the first signal only asks. A
    second Ctrl-C interrupts at once. Returns a function restoring the previous handlers.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def ask(signum: int, frame: Any) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, ask) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


def _make_receiver(plan: SessionPlan, items: Any, on_traces: Any) -> Any:
    from otelcli.redact import remember_secret

    remember_secret(plan.auth_token)  # masked wherever it would appear
    from otelcli.transport.receiver import DEFAULT_PORT, Receiver, is_loopback, parse_listen

    if plan.listen is not None:
        host, port = parse_listen(plan.listen)
    else:
        host, port = "127.0.0.1", 0 if plan.command else DEFAULT_PORT
    if not is_loopback(host) and not plan.auth_token:
        plan.out.warning(
            f"listening on {host} without --auth-token: anyone who can reach the port can send"
        )

    return _receiving(Receiver, plan, items, on_traces, host, port)


def _check_grpc_options(plan: SessionPlan) -> None:
    if plan.grpc is False and plan.grpc_listen is not None:
        raise UsageError("--grpc-listen and --no-grpc contradict each other")
    explicit = plan.grpc is True or plan.grpc_listen is not None
    if plan.file is not None and explicit:
        raise UsageError("--grpc and --grpc-listen apply to the receiver, not to --file")
    if explicit:
        from otelcli.transport.grpc_receiver import require_grpc

        require_grpc()


def _make_grpc_receiver(
    plan: SessionPlan, items: Any, http_host: str, http_port: int, on_traces: Any
) -> Any:
    """The OTLP/gRPC receiver beside the HTTP one, or None when it is off or unavailable."""
    from otelcli.transport.grpc_receiver import DEFAULT_GRPC_PORT, GrpcReceiver, grpc_available

    if plan.grpc is False or (plan.grpc is None and not grpc_available()):
        return None
    if plan.grpc_listen is not None:
        from otelcli.transport.receiver import parse_listen

        try:
            host, port = parse_listen(plan.grpc_listen, DEFAULT_GRPC_PORT)
        except UsageError as exc:
            raise UsageError(exc.message.replace("--listen", "--grpc-listen", 1)) from None
    else:
        # A free HTTP port (a command after --, or :0) gets a free gRPC port too.
        host, port = http_host, DEFAULT_GRPC_PORT if http_port else 0

    return _receiving(GrpcReceiver, plan, items, on_traces, host, port)


def _receiving(
    kind: Any, plan: SessionPlan, items: Any, on_traces: Any, host: str, port: int
) -> Any:
    """An HTTP or gRPC receiver that hands traces to `on_traces` (the save file, then the
    queue) and queues logs (only when a view shows them)."""
    return kind(
        host,
        port,
        on_traces=on_traces,
        on_logs=items.put if plan.view not in (None, "ndjson") else None,
        auth_token=plan.auth_token,
        max_body_bytes=plan.max_body_bytes,
    )


def _start_grpc(plan: SessionPlan, grpc_receiver: Any) -> Any:
    """Start it; when gRPC is only on by default, a taken port is a warning, not an error."""
    try:
        return grpc_receiver.start()
    except UsageError as exc:
        if plan.grpc is True or plan.grpc_listen is not None:
            raise
        plan.out.warning(f"OTLP/gRPC is off: {exc.message} (--grpc-listen picks another port)")
        return None


def _refuse_loop(config: ExporterConfig, own_url: str) -> None:
    from urllib.parse import urlsplit

    target, own = urlsplit(config.endpoint), urlsplit(own_url)
    local = {"localhost", "127.0.0.1", "::1", "0.0.0.0", own.hostname}
    if target.port == own.port and target.hostname in local:
        raise UsageError(
            f"--forward {config.endpoint} is this receiver itself",
            hint="forward to another port or host, or pick another --listen port",
        )


def _make_view(plan: SessionPlan, receiver: Any, grpc_receiver: Any = lambda: None) -> Any:
    """A factory for the view (so that the live screen starts only once receiving has)."""
    if plan.view is None:
        return None
    out = plan.out

    def create() -> Any:
        from otelcli.genai.pricing.summary import default_summarizer
        from otelcli.otlp.traces import SpanFilter, TraceBoard
        from otelcli.render.live import LiveScreen, SpanLines, TreePrinter
        from otelcli.render.tree import TreeStyle

        summarizer = default_summarizer(plan.pricing)
        span_filter = plan.span_filter or SpanFilter()
        if plan.view == "ndjson":
            return SpanLines(out.lines, summarizer, attrs=plan.attrs, span_filter=span_filter)
        board = TraceBoard(max_traces=plan.max_traces)
        if plan.view == "tree":
            return TreePrinter(
                _text_console(out),
                board,
                summarizer,
                style=TreeStyle(attrs=plan.attrs, max_nodes=1 << 30),
                span_filter=span_filter,
                idle_s=plan.idle_s,
            )
        return LiveScreen(
            out.console,
            board,
            summarizer,
            lambda: status_line(plan, receiver, board, grpc_receiver()),
            style=TreeStyle(attrs=plan.attrs),
            span_filter=span_filter,
            idle_s=plan.idle_s,
        )

    return create


def _text_console(out: Output) -> Any:
    """The terminal's console, or for pipes and files a wide one: trees wrap badly."""
    if out.is_terminal:
        return out.console
    import os

    from rich.console import Console

    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and int(columns) > 0 else 200
    return Console(file=out.stdout, width=width, no_color=True, highlight=False, emoji=False)


def status_line(plan: SessionPlan, receiver: Any, board: Any, grpc_receiver: Any = None) -> Any:
    from rich.text import Text

    text = Text(style="dim")
    text.append(f"── {receiver.url if receiver is not None else plan.file}", style="bold")
    if grpc_receiver is not None:
        text.append(f" · gRPC {grpc_receiver.url}", style="bold")
    if receiver is not None:
        both = [receiver.stats] + ([grpc_receiver.stats] if grpc_receiver is not None else [])
        spans = sum(stats.spans for stats in both)
        logs = sum(stats.log_records for stats in both)
        points = sum(stats.data_points for stats in both)
        refused = sum(stats.failed_requests for stats in both)
        text.append(f" · {spans:,} spans · {len(board.traces):,} traces")
        if logs:
            text.append(f" · {logs:,} logs")
        if points:
            text.append(f" · {points:,} metric points")
        if refused:
            last = next(stats.recent_errors[-1] for stats in both if stats.recent_errors)
            text.append(f" · {refused:,} requests refused (last: {last})", style="yellow")
    else:
        text.append(f" · {board.spans_received:,} spans · {len(board.traces):,} traces")
    if plan.save:
        text.append(f" · saving to {plan.save}")
    if plan.forward is not None:
        text.append(f" · forwarding to {plan.forward.endpoint}")
    if plan.span_filter is not None and plan.span_filter.active:
        text.append(" · filtered")
    text.append(" · Ctrl-C to stop")
    return text


def _start_reader(plan: SessionPlan, items: Any, stop: Any, done: Any) -> None:
    import threading

    assert plan.file is not None
    path = plan.file

    def read() -> None:
        try:
            if plan.follow:
                from otelcli.otlp.follow import follow_batches

                for batch in follow_batches(path, stop):
                    items.put(batch)
            else:
                from otelcli.otlp.reader import read_batches

                for batch in read_batches([path]):
                    if stop.is_set():
                        return
                    items.put(batch)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the main thread
            items.put(exc)
        finally:
            done.set()

    threading.Thread(target=read, name="otelcli-file-reader", daemon=True).start()


def _wait_child(child: Any, grace_s: float = 10.0) -> int:
    """The command's exit code; it is stopped if it outlives the grace period."""
    import subprocess

    try:
        code = child.wait(timeout=grace_s) if grace_s else child.poll()
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        code = None
    if code is None:
        child.terminate()
        try:
            code = child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            code = child.wait()
    return int(code) if code >= 0 else 128 - int(code)


def _forward_report(forwarder: Any, finished: bool) -> dict[str, Any]:
    stats = forwarder.stats
    return {
        "endpoint": forwarder.config.endpoint,
        "spans_sent": stats.spans_sent,
        "spans_rejected": stats.spans_rejected,
        "spans_failed": stats.spans_failed,
        "spans_not_attempted": stats.spans_overflow,
        "batches_unfinished": 0 if finished else max(1, forwarder.pending),
        "error": stats.last_error.message if stats.last_error else None,
        "messages": stats.messages,
    }


def _exit_code(result: SessionResult, forwarder: Any) -> int:
    if result.save_error is not None:
        return int(ExitCode.OUTPUT)  # the save file may lack what senders gave up on
    if result.command_exit_code:
        return result.command_exit_code
    if forwarder is not None and forwarder.stats.last_error is not None:
        return int(forwarder.stats.last_error.exit_code)
    return 0


def summary_lines(result: SessionResult) -> list[str]:
    """The end-of-run report, for stderr."""
    lines = []
    where = f" on {result.listen}" if result.listen else f" from {result.source}"
    if result.grpc_listen:
        where += f" and gRPC {result.grpc_listen}"
    received = f"received {result.spans:,} spans in {result.batches:,} batches{where}"
    stats, grpc_stats = result.receiver, result.grpc_receiver
    log_records = stats.get("log_records", 0) + grpc_stats.get("log_records", 0)
    data_points = stats.get("data_points", 0) + grpc_stats.get("data_points", 0)
    if log_records:
        received += f", {log_records:,} log records"
    if data_points:
        received += f", {data_points:,} metric data points"
    lines.append(received)
    if stats and stats.get("rejected_requests"):
        refused = ", ".join(f"{n} x HTTP {code}" for code, n in stats["rejected_requests"].items())
        lines.append(f"refused requests: {refused}")
    if grpc_stats.get("rejected_requests"):
        from otelcli.transport.grpc_receiver import grpc_code_name

        refused = ", ".join(
            f"{n} x {grpc_code_name(code)}" for code, n in grpc_stats["rejected_requests"].items()
        )
        lines.append(f"refused gRPC requests: {refused}")
    if result.saved:
        saved = result.saved
        lines.append(f"saved {saved['batches']:,} batches to {saved['path']} ({saved['format']})")
        if saved.get("refused_batches"):
            lines.append(
                f"could not save {saved['refused_batches']:,} batches "
                f"({saved['refused_spans']:,} spans), refused so that senders retry: "
                f"{saved['error']}"
            )
        elif saved.get("error"):
            lines.append(f"the save file failed: {saved['error']}")
    if result.forward:
        fwd = result.forward
        line = f"forwarded {fwd['spans_sent']:,} spans to {fwd['endpoint']}"
        lost = fwd["spans_rejected"] + fwd["spans_failed"] + fwd["spans_not_attempted"]
        if lost:
            line += f"; {lost:,} not delivered"
        if fwd["batches_unfinished"]:
            line += f"; gave up waiting on {fwd['batches_unfinished']:,} batches"
        if fwd["error"]:
            line += f" (last error: {fwd['error']})"
        lines.append(line)
    if result.command_exit_code is not None:
        lines.append(f"command exited with {result.command_exit_code}")
    return lines
