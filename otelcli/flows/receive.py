"""The receiving session behind `tail`, `capture` and `validate -- CMD`.

Receivers (OTLP/HTTP, and OTLP/gRPC when grpcio is installed) or a followed file feed one
queue; each trace batch goes to the save file (before the sender is told it arrived), to the
forwarding sink and to the subscriber, which sees every batch of the signals it asks for. A
command given after `--` runs with its exporters pointed at the receiver; the session ends
when it exits (after a grace period for late batches), at --run-for, at the end of --file, or
on Ctrl-C / SIGTERM. The subscriber is how a live view or a validator watches; this module
never prints.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from otelcli.errors import ExitCode, OtelcliError, OutputError, UsageError
from otelcli.otlp.signals import Signal, count_records, signal_of

if TYPE_CHECKING:
    from otelcli.transport.config import ExporterConfig
    from otelcli.transport.receiver import ReceiverStats
    from otelcli.transport.sink import BackgroundSink, SinkReport

TRACES = "traces"
LOGS = "logs"


@dataclass(frozen=True)
class Note:
    """Something to tell the user while the session runs."""

    level: str  # "notice" or "warning"
    text: str
    kind: str = ""  # "listening": the receiving line (a live view shows it itself)


class Subscriber:
    """What watches a session. Every method runs on the session's thread."""

    signals: frozenset[str] = frozenset({TRACES})  # the signals handed to `batch`

    def started(self, session: Receiving) -> None:
        """Receiving (or reading) has begun."""

    def batch(self, signal: str, request: Any) -> None:
        """One decoded export request of `signal` (traces, logs, ...), in arrival order."""

    def tick(self) -> None:
        """Called a few times a second."""

    def note(self, note: Note) -> None:
        """Something to tell the user (also kept in the result's notes)."""

    def close(self) -> None:
        """Everything received has been handed over."""


@dataclass(frozen=True)
class ReceiverOptions:
    listen: str | None = None  # default 127.0.0.1:4318, or a free port with a command
    auth_token: str | None = None
    max_body_bytes: int = 64 << 20
    grpc: bool | None = None  # None: on when grpcio is installed
    grpc_listen: str | None = None


@dataclass(frozen=True)
class ReceiveRequest:
    receiver: ReceiverOptions = field(default_factory=ReceiverOptions)
    file: str | None = None  # read a capture file instead of receiving
    follow: bool = False
    save: str | None = None
    save_format: str | None = None
    save_table: str | None = None  # --save to a store: its traces table (otel_traces)
    forward: ExporterConfig | None = None
    command: tuple[str, ...] = ()
    run_for: float | None = None
    grace_s: float = 0.0  # after the command exits: wait for late batches, at most this long
    quiet_s: float = 0.3  # ... ending early once nothing arrived for this long
    subscriber: Subscriber = field(default_factory=Subscriber)


@dataclass
class SaveReport:
    """The save file or store: a FileReport (what was kept), and what could not be kept,
    refused for a retry; per signal, what the receivers took = kept + refused."""

    file: Any  # transport.sink.FileReport
    refused_batches: int = 0
    refused: Counter[Signal] = field(default_factory=Counter)  # signal -> records
    error: OutputError | None = None

    @property
    def refused_spans(self) -> int:
        return self.refused[Signal.TRACES]

    @property
    def refused_log_records(self) -> int:
        return self.refused[Signal.LOGS]

    @property
    def refused_data_points(self) -> int:
        return self.refused[Signal.METRICS]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.file.to_dict(),
            "refused_batches": self.refused_batches,
            "refused_spans": self.refused_spans,
            "refused_log_records": self.refused_log_records,
            "refused_data_points": self.refused_data_points,
            "error": self.error.message if self.error is not None else None,
        }


@dataclass
class ReceiveResult:
    listen: str | None = None
    grpc_listen: str | None = None
    source: str | None = None
    batches: int = 0
    spans: int = 0
    receiver: dict[str, Any] = field(default_factory=dict)
    grpc_receiver: dict[str, Any] = field(default_factory=dict)
    saved: SaveReport | None = None
    forward: SinkReport | None = None
    log_records: int = 0
    data_points: int = 0
    # logs and metrics forwarded to their own paths (/v1/logs, /v1/metrics)
    forwards: dict[str, SinkReport] = field(default_factory=dict)
    command_exit_code: int | None = None
    interrupted: bool = False
    notes: list[Note] = field(default_factory=list)

    @property
    def error(self) -> OtelcliError | None:
        """What the run ends with, apart from the command's own exit code."""
        if self.saved is not None and self.saved.error is not None:
            return self.saved.error  # the save file may lack what senders gave up on
        if self.forward is not None and self.forward.error is not None:
            return self.forward.error
        return next((f.error for f in self.forwards.values() if f.error is not None), None)

    @property
    def exit_code(self) -> int:
        if self.saved is not None and self.saved.error is not None:
            return int(ExitCode.OUTPUT)
        if self.command_exit_code:
            return self.command_exit_code
        error = self.error
        return int(error.exit_code) if error is not None else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "listen": self.listen,
            "grpc_listen": self.grpc_listen,
            "source": self.source,
            "batches": self.batches,
            "spans": self.spans,
            "receiver": self.receiver,
            "grpc_receiver": self.grpc_receiver,
            "saved": self.saved.to_dict() if self.saved is not None else None,
            "forward": self.forward.to_dict() if self.forward is not None else None,
            "log_records": self.log_records,
            "data_points": self.data_points,
            "forwards": {signal: f.to_dict() for signal, f in self.forwards.items()},
            "command_exit_code": self.command_exit_code,
            "interrupted": self.interrupted,
        }


class Receiving:
    """The running session as a subscriber sees it: where it listens and its live counts."""

    def __init__(self, request: ReceiveRequest) -> None:
        self.request = request
        self.receiver: Any = None
        self.grpc_receiver: Any = None
        self.forwarder: Any = None  # a BackgroundSink with --forward: its live counts
        self.log_records = 0  # read from --file so far (receivers count their own)
        self.data_points = 0

    @property
    def listen(self) -> str | None:
        return self.receiver.url if self.receiver is not None else None

    @property
    def grpc_listen(self) -> str | None:
        return self.grpc_receiver.url if self.grpc_receiver is not None else None

    @property
    def stats(self) -> list[ReceiverStats]:
        """The counts of each running receiver (none when reading a file)."""
        return [r.stats for r in (self.receiver, self.grpc_receiver) if r is not None]


def run(request: ReceiveRequest) -> ReceiveResult:
    """Receive (or read) batches until the session ends; see the module docstring."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from otelcli.otlp.spans import count_spans

    subscriber = request.subscriber
    result = ReceiveResult()
    items: queue.SimpleQueue[Any] = queue.SimpleQueue()
    stop_requested = threading.Event()
    session = Receiving(request)

    def note(level: str, text: str, kind: str = "") -> None:
        told = Note(level, text, kind)
        result.notes.append(told)
        subscriber.note(told)

    _check_grpc_options(request)
    saver = _make_saver(request, items)
    receiver = grpc_receiver = None
    if request.file is None:
        on_traces = saver.keep if saver is not None else items.put
        receiver = _make_receiver(request, items, on_traces, note)
        grpc_receiver = _make_grpc_receiver(request, items, receiver.host, receiver.port, on_traces)
    else:
        result.source = request.file
    if receiver is not None and request.forward is not None:
        _refuse_loop(request.forward, receiver.url)
    forwarder: BackgroundSink | None = None
    others: dict[str, BackgroundSink] = {}  # forwarders of logs and metrics
    child = None
    stop_reading = threading.Event()
    restore_signals = _stop_on_signals(stop_requested)
    try:
        if saver is not None and receiver is None:
            saver.open()
        if request.forward is not None:
            from otelcli.transport.sink import BackgroundSink, SinkTarget

            forwarder = BackgroundSink(
                SinkTarget(endpoint=request.forward), on_failure=lambda e: items.put(_Failed(e))
            )
            session.forwarder = forwarder
        if receiver is not None:
            receiver.start()
            session.receiver = receiver
            result.listen = receiver.url
            if grpc_receiver is not None:
                grpc_receiver = _start_grpc(request, grpc_receiver, note)
            if grpc_receiver is not None:
                session.grpc_receiver = grpc_receiver
                result.grpc_listen = grpc_receiver.url
            if saver is not None:
                # Only now: a taken port must not have emptied the file already. A request
                # that came in the meantime was answered 503 and is sent again.
                saver.open()
            also = f" and OTLP/gRPC on {result.grpc_listen}" if result.grpc_listen else ""
            note(
                "notice",
                f"otelcli: receiving OTLP/HTTP on {receiver.url}{also} (Ctrl-C to stop)",
                "listening",
            )
        if request.command:
            from otelcli.transport.receiver import start_command

            assert receiver is not None
            grpc_env = {"OTELCLI_GRPC_ENDPOINT": result.grpc_listen} if result.grpc_listen else {}
            child = start_command(
                request.command, receiver.url, request.receiver.auth_token, grpc_env
            )
        reading_done = threading.Event()
        if request.file is not None:
            _start_reader(request, items, stop_reading, reading_done)
        subscriber.started(session)
        wants_traces = TRACES in subscriber.signals

        def handle_other(item: Any) -> None:
            """A logs or metrics batch: counted, kept (--file), forwarded, shown."""
            signal = signal_of(item)
            if signal is Signal.LOGS:
                result.log_records += count_records(item)
            else:
                result.data_points += count_records(item)
            session.log_records, session.data_points = result.log_records, result.data_points
            if saver is not None and receiver is None:
                saver.write(item)
            if request.forward is not None:
                sink = others.get(signal.value)
                if sink is None:
                    from otelcli.transport.sink import BackgroundSink, SinkTarget

                    target = SinkTarget(endpoint=request.forward, signal=signal)
                    sink = others[signal.value] = BackgroundSink(target)
                sink.submit(item)
            if signal.value in subscriber.signals:
                subscriber.batch(signal.value, item)

        def handle(item: Any) -> None:
            if isinstance(item, ExportTraceServiceRequest):
                result.batches += 1
                result.spans += count_spans(item)
                if saver is not None and receiver is None:
                    saver.write(item)  # read from --file: nobody to retry, so a failure stops
                if forwarder is not None:
                    forwarder.submit(item)
                if wants_traces:
                    subscriber.batch(TRACES, item)
            elif isinstance(item, BaseException):
                raise item
            elif isinstance(item, _Failed):  # once per kind of failure, while it runs
                item.tell(note)
            elif isinstance(item, _SaveFailed):
                if item.error is None:
                    note("notice", f"otelcli: {request.save} takes batches again")
                else:
                    note(
                        "warning",
                        f"{item.error.message}: batches are refused (HTTP 503, gRPC "
                        f"UNAVAILABLE) so that senders keep them and retry; {item.error.hint}",
                    )
            else:
                handle_other(item)

        def pump(wait_s: float) -> bool:
            """Handle what is queued (waiting up to `wait_s` for the first); True if any."""
            try:
                handle(items.get(timeout=wait_s))
            except queue.Empty:
                return False
            deadline = time.monotonic() + 0.05
            while time.monotonic() < deadline:
                try:
                    handle(items.get_nowait())
                except queue.Empty:
                    break
            return True

        def drain() -> None:
            while True:
                try:
                    handle(items.get_nowait())
                except queue.Empty:
                    return

        stop_at = None if request.run_for is None else time.monotonic() + request.run_for
        try:
            while True:
                pump(0.1)
                subscriber.tick()
                if child is not None and child.poll() is not None:
                    _late_batches(request, pump, subscriber, stop_requested)
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
        if request.command and result.spans == 0 and not result.interrupted:
            note("warning", _nothing_exported(result), "nothing exported")
        drain()
        subscriber.close()
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
            result.saved = _save_report(saver.close())  # every acknowledged batch is in it
        if forwarder is not None:
            result.forward = forwarder.close(timeout_s=30)
            while not items.empty():  # failures met while finishing the backlog
                item = items.get_nowait()
                if isinstance(item, _Failed):
                    item.tell(note)
        for name, sink in others.items():
            result.forwards[name] = sink.close(timeout_s=30)
    return result


def _nothing_exported(result: ReceiveResult) -> str:
    """Why a command may have sent nothing, and the variable that usually fixes it."""
    grpc = (
        f"send to OTELCLI_GRPC_ENDPOINT ({result.grpc_listen}) instead"
        if result.grpc_listen
        else "let otelcli receive gRPC too (drop --no-grpc; the grpc extra)"
    )
    return (
        f"the command exported no spans to {result.listen}: an exporter fixed to OTLP/gRPC "
        "ignores OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf and talks gRPC to the HTTP port; "
        f"make it use http/protobuf, or {grpc}"
    )


def _late_batches(
    request: ReceiveRequest,
    pump: Callable[[float], bool],
    subscriber: Subscriber,
    stop: threading.Event,
) -> None:
    """The command has exited; exporters flush at shutdown, but a request may still be on its
    way: wait until nothing arrived for `quiet_s`, `grace_s` at most."""
    deadline = time.monotonic() + request.grace_s
    quiet_since = time.monotonic()
    while time.monotonic() < deadline and not stop.is_set():
        if pump(0.05):
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= request.quiet_s:
            return
        subscriber.tick()


@dataclass(frozen=True)
class _Failed:
    """A new kind of forwarding failure, told by the forwarder's thread."""

    error: OtelcliError

    def tell(self, note: Callable[[str, str, str], None]) -> None:
        hint = f" ({self.error.hint})" if self.error.hint else ""
        note("warning", f"forwarding failed: {self.error.message}{hint}", "forwarding")


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

    def __init__(self, request: ReceiveRequest, items: Any) -> None:
        from otelcli.otlp.formats import Format, format_for_path
        from otelcli.otlp.writer import check_streamable

        assert request.save is not None
        self.path = request.save
        self.save_format = request.save_format
        self.items = items
        fmt, _ = format_for_path(self.path, Format.parse(self.save_format))
        check_streamable(self.path, fmt)  # before anything starts
        if request.file is not None and _same_file(request.file, self.path):
            raise UsageError(
                f"--save {self.path} is the file being read",
                hint="save to another file: the save file is written as batches arrive",
            )
        self.writer: Any = None
        self.spans = 0
        self.failure: OutputError | None = None
        self.refused_batches = 0
        self.refused: Counter[Signal] = Counter()  # signal -> records
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
        from otelcli.otlp.spans import count_spans

        if self.writer is None:
            from otelcli.transport.receiver import ConsumerUnavailable

            raise ConsumerUnavailable("the save file is not open (yet, or any more)")
        self.writer.write(batch)
        self.spans += count_spans(batch)  # 0 for logs and metrics: the writer counts those

    def keep(self, batch: Any) -> None:
        """The receiver's callback: in the file, then queued for the view and the forwarder."""
        from otelcli.transport.receiver import ConsumerUnavailable

        with self._lock:
            try:
                self._write(batch)
            except (OutputError, ConsumerUnavailable) as exc:
                self.refused_batches += 1
                self.refused[signal_of(batch)] += count_records(batch)
                if isinstance(exc, ConsumerUnavailable):  # not open yet, or any more
                    raise
                if not self._failing or self.failure is None or self.failure.message != exc.message:
                    self.items.put(_SaveFailed(exc))
                self.failure = exc
                self._failing = True
                raise ConsumerUnavailable(f"{exc.message} (retry later)") from None
            if self._failing:
                self._failing = False
                self.items.put(_SaveFailed(None))
            self.items.put(batch)

    def close(self) -> SaveReport | None:
        from otelcli.transport.sink import FileReport

        with self._lock:
            writer, self.writer = self.writer, None
        if writer is None:
            return None
        try:
            writer.close()
        except OutputError as exc:
            self.failure = exc
        return SaveReport(
            FileReport.of(writer, self.spans),
            self.refused_batches,
            self.refused,
            self.failure,
        )


def _make_saver(request: ReceiveRequest, items: Any) -> Any:
    """The save file, or the store when --save names one (store.saver); None without --save."""
    if request.save is None:
        return None
    from otelcli.store.saver import is_store_target

    if not is_store_target(request.save):
        if request.save_table is not None:
            raise UsageError(
                f"--table applies to a store, not to the file {request.save}",
                hint="e.g. --save chdb:./traces.chdb --table otel_traces",
            )
        return _Saver(request, items)
    if request.save_format is not None:
        raise UsageError("--to-format applies to a file, not to a store")
    from otelcli.store.saver import StoreSaver
    from otelcli.store.url import DEFAULT_TABLE

    return StoreSaver(
        request.save,
        request.save_table or DEFAULT_TABLE,
        items.put,
        lambda error: items.put(_SaveFailed(error)),
    )


def _save_report(kept: Any) -> SaveReport | None:
    """The save file's report as it is; a store's (store.saver.StoreReport) in the same form."""
    if kept is None or isinstance(kept, SaveReport):
        return kept
    from otelcli.transport.sink import FileReport

    saved = kept.saved
    file = FileReport(
        kept.store,
        f"table {kept.table}",
        False,
        kept.batches,
        saved[Signal.TRACES],
        log_records=saved[Signal.LOGS],
        data_points=saved[Signal.METRICS],
    )
    return SaveReport(file, kept.refused_batches, kept.refused, kept.error)


def _same_file(one: str, other: str) -> bool:
    import os

    try:
        return one != "-" and other != "-" and os.path.samefile(one, other)
    except OSError:
        return False


def _stop_on_signals(stop: threading.Event) -> Callable[[], None]:
    """Ctrl-C and SIGTERM (docker stop, CI timeouts) set `stop`; the loop then ends cleanly.

    An exception raised from a signal handler could land between taking a batch off the
    queue and handling it, losing an acknowledged batch: so the first signal only asks. A
    second Ctrl-C interrupts at once. Returns a function restoring the previous handlers.
    """
    import signal

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


Notify = Callable[..., None]


def _make_receiver(request: ReceiveRequest, items: Any, on_traces: Any, note: Notify) -> Any:
    from otelcli.redact import remember_secret

    remember_secret(request.receiver.auth_token)  # masked wherever it would appear
    from otelcli.transport.receiver import DEFAULT_PORT, Receiver, is_loopback, parse_listen

    if request.receiver.listen is not None:
        host, port = parse_listen(request.receiver.listen)
    else:
        host, port = "127.0.0.1", 0 if request.command else DEFAULT_PORT
    if not is_loopback(host) and not request.receiver.auth_token:
        note(
            "warning",
            f"listening on {host} without --auth-token: anyone who can reach the port can send",
        )
    return _receiving(Receiver, request, items, on_traces, host, port)


def _check_grpc_options(request: ReceiveRequest) -> None:
    if request.receiver.grpc is False and request.receiver.grpc_listen is not None:
        raise UsageError("--grpc-listen and --no-grpc contradict each other")
    explicit = request.receiver.grpc is True or request.receiver.grpc_listen is not None
    if request.file is not None and explicit:
        raise UsageError("--grpc and --grpc-listen apply to the receiver, not to --file")
    if explicit:
        from otelcli.transport.grpc_receiver import require_grpc

        require_grpc()


def _make_grpc_receiver(
    request: ReceiveRequest, items: Any, http_host: str, http_port: int, on_traces: Any
) -> Any:
    """The OTLP/gRPC receiver beside the HTTP one, or None when it is off or unavailable."""
    from otelcli.transport.grpc_receiver import DEFAULT_GRPC_PORT, GrpcReceiver, grpc_available

    if request.receiver.grpc is False or (request.receiver.grpc is None and not grpc_available()):
        return None
    if request.receiver.grpc_listen is not None:
        from otelcli.transport.receiver import parse_listen

        try:
            host, port = parse_listen(request.receiver.grpc_listen, DEFAULT_GRPC_PORT)
        except UsageError as exc:
            raise UsageError(exc.message.replace("--listen", "--grpc-listen", 1)) from None
    else:
        # A free HTTP port (a command after --, or :0) gets a free gRPC port too.
        host, port = http_host, DEFAULT_GRPC_PORT if http_port else 0
    return _receiving(GrpcReceiver, request, items, on_traces, host, port)


def _receiving(
    kind: Any, request: ReceiveRequest, items: Any, on_traces: Any, host: str, port: int
) -> Any:
    """An HTTP or gRPC receiver that hands every signal to `on_traces` (the save file, then
    the queue): logs and metrics are kept and forwarded like traces."""
    return kind(
        host,
        port,
        on_traces=on_traces,
        on_logs=on_traces,
        on_metrics=on_traces,
        auth_token=request.receiver.auth_token,
        max_body_bytes=request.receiver.max_body_bytes,
    )


def _start_grpc(request: ReceiveRequest, grpc_receiver: Any, note: Notify) -> Any:
    """Start it; when gRPC is only on by default, a taken port is a warning, not an error."""
    try:
        return grpc_receiver.start()
    except UsageError as exc:
        if request.receiver.grpc is True or request.receiver.grpc_listen is not None:
            raise
        note("warning", f"OTLP/gRPC is off: {exc.message} (--grpc-listen picks another port)")
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


def _start_reader(
    request: ReceiveRequest, items: Any, stop: threading.Event, done: threading.Event
) -> None:
    assert request.file is not None
    path = request.file

    def read() -> None:
        try:
            if request.follow:
                from otelcli.otlp.follow import follow_batches

                for batch in follow_batches(path, stop):
                    items.put(batch)
            else:
                from otelcli.otlp.reader import read_all

                for read_batch in read_all([path]):
                    if stop.is_set():
                        return
                    items.put(read_batch)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the main thread
            items.put(exc)
        finally:
            done.set()

    threading.Thread(target=read, name="otelcli-file-reader", daemon=True).start()


def _wait_child(child: Any, grace_s: float = 10.0) -> int:
    """The command's exit code (128 + N when signal N ended it); it is stopped if it outlives
    the grace period."""
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
