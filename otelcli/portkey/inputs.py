"""Read captured LLM requests in any of the forms teams keep them, as one common record.

Forms, detected from the content: HAR files (browser dev tools, proxies), raw HTTP request
dumps (with optional responses), curl command lines, JSON Lines / JSON of
{headers, body, response, timestamp} records, and Portkey log records (Insert-a-Log /
log-export shape). Everything may be gzip-compressed or come from stdin ("-").

JSON Lines are read line by line; HAR, JSON documents, curl files and HTTP dumps are
documents and are read whole. Secret header values are replaced at the parse boundary, so
no Request ever holds an API key.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import re
import shlex
import sys
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, Any, BinaryIO, cast
from urllib.parse import urlsplit

import orjson

from otelcli.errors import InvalidInputError
from otelcli.parse import read_time
from otelcli.redact import REDACTED, is_secret_name

_BUFFER = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b"
_METHODS = "GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS"
_REQUEST_LINE = re.compile(rf"^({_METHODS}) (\S+) HTTP/\d(?:\.\d)?\s*$")
_STATUS_LINE = re.compile(r"^HTTP/\d(?:\.\d)? (\d{3})(?: .*)?$")
_EXPECTED = "HAR, JSON/JSON Lines records, Portkey log records, raw HTTP requests or curl commands"


@dataclass(frozen=True)
class Response:
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None  # parsed JSON when it was JSON, else the text


@dataclass(frozen=True)
class Request:
    """One captured request, whatever form it came in.

    `headers` has lower-case names and redacted secret values. `log_fields` holds the tracing
    fields of a Portkey log record (trace_id, span_id, parent_span_id, span_name) and
    `log_metadata` its metadata object; both are empty for plain HTTP captures.
    """

    source: str
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str | None = None
    url: str | None = None
    body: Any = None
    response: Response | None = None
    start_ns: int | None = None
    duration_ns: int | None = None
    first_byte_ns: int | None = None  # from the start, when the capture timed it (HAR)
    provider: str | None = None  # request.provider of a Portkey log record
    log_fields: Mapping[str, str] = field(default_factory=dict)
    log_metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    """A record (or a whole input) that could not be used, and why."""

    source: str
    reason: str


Item = Request | Skipped


# ---------------------------------------------------------------------------------------------
# entry points


def read_inputs(paths: Sequence[str], stdin: BinaryIO | None = None) -> Iterator[Item]:
    """Requests (and skipped records) from every path in order; "-" is stdin."""
    for path in paths:
        if path == "-":
            yield from read_stream(stdin or sys.stdin.buffer, "<stdin>", Path.cwd())
            continue
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise InvalidInputError(
                f"cannot open {path}: {exc.strerror or exc}",
                hint="check the path; use - to read from stdin",
            ) from None
        with handle:
            yield from read_stream(handle, path, Path(path).resolve().parent)


def read_stream(stream: BinaryIO, name: str, base_dir: Path | None = None) -> Iterator[Item]:
    """Detect the form of one input and parse it; gzip is undone transparently."""
    # Peek without consuming: files opened "rb" and stdin already can; anything else is wrapped.
    buffered = (
        stream
        if isinstance(stream, io.BufferedReader)
        else io.BufferedReader(cast(io.RawIOBase, stream), _BUFFER)
    )
    try:
        content: IO[bytes] = buffered
        if buffered.peek(2)[:2] == _GZIP_MAGIC:
            content = cast(IO[bytes], gzip.GzipFile(fileobj=buffered))
        yield from _parse(content, name, base_dir)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"{name}: cannot read: {_first_line(str(exc))}",
            hint="the file may be truncated, binary, or not what its name says",
        ) from None


def parse_text(text: str, name: str = "<text>", base_dir: Path | None = None) -> Iterator[Item]:
    """Parse an input given as text (tests, and callers that already hold the content)."""
    yield from read_stream(io.BytesIO(text.encode("utf-8")), name, base_dir)


def detect_format(first_line: str) -> str | None:
    """The form an input is in, judged by its first non-blank line.

    Returns "json" (HAR, JSON or JSON Lines: decided by parsing), "curl", "http" or None.
    """
    line = first_line.lstrip("\ufeff \t")
    if line.startswith(("{", "[")):
        return "json"
    if re.match(r"^(?:\$\s*)?curl(?:\.exe)?\s", line):
        return "curl"
    if _REQUEST_LINE.match(line.rstrip("\r\n")) or _STATUS_LINE.match(line.rstrip("\r\n")):
        return "http"
    return None


def _parse(stream: IO[bytes], name: str, base_dir: Path | None) -> Iterator[Item]:
    line_number = 0
    first = b""
    for raw in stream:
        line_number += 1
        content = raw.strip(b" \t\r\n\xef\xbb\xbf")
        if content and not content.startswith(b"#"):  # comments head curl files and dumps
            first = raw
            break
    if not first:
        return  # an empty input holds no records
    first_text = first.decode("utf-8-sig")
    kind = detect_format(first_text)
    if kind == "json":
        yield from _parse_json_input(first_text, line_number, stream, name)
        return
    rest = stream.read().decode("utf-8")
    text = first_text + rest
    if kind == "curl":
        yield from _parse_curl_text(text, name, line_number, base_dir)
    elif kind == "http":
        yield from _parse_http_text(text, name, line_number)
    else:
        yield Skipped(name, f"unrecognised input (expected {_EXPECTED})")


# ---------------------------------------------------------------------------------------------
# JSON: HAR, JSON documents, JSON Lines, Portkey log records


def _parse_json_input(
    first_line: str, line_number: int, stream: IO[bytes], name: str
) -> Iterator[Item]:
    try:
        first_value = orjson.loads(first_line)
    except orjson.JSONDecodeError:
        first_value = None
    if not isinstance(first_value, dict):
        # A JSON document spread over lines (a HAR, an array, a pretty-printed record).
        text = first_line + stream.read().decode("utf-8")
        try:
            document = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            yield Skipped(name, f"not valid JSON: {_first_line(str(exc))}")
            return
        yield from requests_from_json(document, name)
        return
    # JSON Lines, streamed: one record (or one HAR / list) per line.
    yield from requests_from_json(first_value, f"{name}:{line_number}")
    for raw in stream:
        line_number += 1
        if not raw.strip():
            continue
        source = f"{name}:{line_number}"
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            yield Skipped(source, f"not valid JSON: {_first_line(str(exc))}")
            continue
        yield from requests_from_json(value, source)


def requests_from_json(value: Any, source: str) -> Iterator[Item]:
    """Requests from one parsed JSON value: a HAR, a list or wrapper of records, or a record."""
    if isinstance(value, list):
        for index, item in enumerate(value, 1):
            yield from requests_from_json(item, f"{source}#{index}")
        return
    if not isinstance(value, dict):
        yield Skipped(source, f"expected a JSON object, found {type(value).__name__}")
        return
    log = value.get("log")
    if isinstance(log, dict) and isinstance(log.get("entries"), list):
        for index, entry in enumerate(log["entries"], 1):
            yield _har_entry(entry, f"{source} entry {index}")
        return
    for key in ("data", "logs", "records", "items", "entries"):
        inner = value.get(key)
        if isinstance(inner, list) and not _looks_like_record(value):
            yield from requests_from_json(inner, source)
            return
    yield record_to_request(value, source)


def _looks_like_record(value: Mapping[str, Any]) -> bool:
    return any(key in value for key in ("headers", "request", "response", "metadata", "body"))


def record_to_request(record: Mapping[str, Any], source: str) -> Item:
    """A generic {headers, body, response, timestamp} record or a Portkey log record."""
    request = _maybe_json(record.get("request"))
    request = request if isinstance(request, dict) else {}
    metadata = _maybe_json(record.get("metadata"))
    metadata = metadata if isinstance(metadata, dict) else {}

    headers = normalize_headers(request.get("headers", record.get("headers")))
    body = _body(request["body"] if "body" in request else record.get("body"))
    response = _record_response(record)
    log_fields = _log_fields(record, metadata)
    if not (headers or body is not None or response or log_fields):
        return Skipped(source, "no request headers, body, response or Portkey trace fields")

    start_ns = _first_time(
        record.get("timestamp"),
        record.get("createdAt"),
        record.get("created_at"),
        record.get("start_time"),
        record.get("startTime"),
        record.get("time"),
        metadata.get("startTime"),
    )
    response_fields = _maybe_json(record.get("response"))
    duration_ns = _first_duration_ms(
        response_fields if isinstance(response_fields, dict) else {}, record
    )
    end_ns = _first_time(record.get("end_time"), record.get("endTime"), metadata.get("endTime"))
    if duration_ns is None and start_ns is not None and end_ns is not None and end_ns >= start_ns:
        duration_ns = end_ns - start_ns

    provider = request.get("provider") or record.get("provider") or record.get("ai_org")
    return Request(
        source=source,
        headers=headers,
        method=_str_or_none(request.get("method", record.get("method"))),
        url=_str_or_none(request.get("url", record.get("url"))),
        body=body,
        response=response,
        start_ns=start_ns,
        duration_ns=duration_ns,
        provider=str(provider) if provider else None,
        log_fields=log_fields,
        log_metadata=metadata,
    )


def _record_response(record: Mapping[str, Any]) -> Response | None:
    response = _maybe_json(record.get("response"))
    status = None
    if isinstance(response, dict):
        status = _int_or_none(
            response.get("status", response.get("status_code", response.get("statusCode")))
        )
        headers = normalize_headers(response.get("headers"))
        body = _body(response.get("body"))
    else:
        headers, body = {}, None
    if status is None:
        status = _int_or_none(
            record.get("status", record.get("status_code", record.get("response_status_code")))
        )
    if status is None and not headers and body is None:
        return None
    return Response(status=status, headers=headers, body=body)


def _first_duration_ms(*holders: Mapping[str, Any]) -> int | None:
    for holder in holders:
        for key in ("response_time", "latency_ms", "duration_ms", "elapsed_ms", "latency"):
            value = holder.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
                return int(value * 1_000_000)
    return None


def _log_fields(record: Mapping[str, Any], metadata: Mapping[str, Any]) -> dict[str, str]:
    """Trace fields of a Portkey log: body fields first, then metadata (the gateway's order)."""
    fields: dict[str, str] = {}
    names = {
        "trace_id": ("trace_id", "traceId"),
        "span_id": ("span_id", "spanId"),
        "parent_span_id": ("parent_span_id", "parentSpanId"),
        "span_name": ("span_name", "spanName"),
    }
    for field_name, keys in names.items():
        value = record.get(field_name)
        if value in (None, ""):
            value = next((metadata[k] for k in keys if metadata.get(k) not in (None, "")), None)
        if value not in (None, ""):
            fields[field_name] = str(value)
    return fields


# ---------------------------------------------------------------------------------------------
# HAR


def _har_entry(entry: Any, source: str) -> Item:
    if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
        return Skipped(source, "HAR entry without a request")
    request = entry["request"]
    post = request.get("postData") if isinstance(request.get("postData"), dict) else {}
    response = entry.get("response") if isinstance(entry.get("response"), dict) else None
    parsed_response = None
    if response is not None:
        content = response.get("content") if isinstance(response.get("content"), dict) else {}
        text = content.get("text")
        if isinstance(text, str) and content.get("encoding") == "base64":
            try:
                text = base64.b64decode(text).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                text = None
        status = _int_or_none(response.get("status"))
        parsed_response = Response(
            # HAR writes status 0 for requests that never got an answer.
            status=status if status else None,
            headers=normalize_headers(response.get("headers")),
            body=_body(text),
        )
    duration_ms = entry.get("time")
    timings: dict[str, Any] = entry["timings"] if isinstance(entry.get("timings"), dict) else {}
    phases = {k: v for k, v in timings.items() if isinstance(v, (int, float)) and v >= 0}
    if not isinstance(duration_ms, (int, float)) or duration_ms < 0:
        duration_ms = sum(v for k, v in phases.items() if k != "ssl") if phases else None
    first_byte_ms = None
    if "wait" in phases:
        # Everything before the first byte arrived; ssl is already inside connect.
        first_byte_ms = sum(v for k, v in phases.items() if k not in ("ssl", "receive"))
    return Request(
        source=source,
        headers=normalize_headers(request.get("headers")),
        method=_str_or_none(request.get("method")),
        url=_str_or_none(request.get("url")),
        body=_body(post.get("text")),
        response=parsed_response,
        start_ns=read_time(entry.get("startedDateTime")),
        duration_ns=int(duration_ms * 1_000_000) if duration_ms is not None else None,
        first_byte_ns=int(first_byte_ms * 1_000_000) if first_byte_ms is not None else None,
    )


# ---------------------------------------------------------------------------------------------
# raw HTTP dumps


def _parse_http_text(text: str, name: str, first_line_number: int) -> Iterator[Item]:
    lines = text.splitlines(keepends=True)
    index = 0
    pending: tuple[str, int, str, str, dict[str, str], Any] | None = None
    line_base = first_line_number

    def flush(response: Response | None) -> Iterator[Item]:
        nonlocal pending
        if pending is not None:
            source, _number, method, target, headers, body = pending
            yield _http_request(source, method, target, headers, body, response)
            pending = None

    while index < len(lines):
        line = lines[index].rstrip("\r\n")
        request_match = _REQUEST_LINE.match(line)
        status_match = _STATUS_LINE.match(line)
        if not (request_match or status_match):
            index += 1  # separators, comments, blank lines between messages
            continue
        number = line_base + index
        headers, body, index = _read_message(lines, index + 1)
        if request_match:
            yield from flush(None)
            method, target = request_match.groups()
            pending = (f"{name}:{number}", number, method, target, headers, body)
        else:
            assert status_match is not None
            response = Response(
                status=int(status_match.group(1)), headers=headers, body=_body(body)
            )
            if pending is None:
                yield Skipped(f"{name}:{number}", "HTTP response without a request before it")
            else:
                yield from flush(response)
    yield from flush(None)


def _read_message(lines: list[str], index: int) -> tuple[dict[str, str], str | None, int]:
    """Headers and body of one HTTP message starting after its first line."""
    pairs: list[tuple[str, str]] = []
    while index < len(lines) and lines[index].strip():
        name, sep, value = lines[index].rstrip("\r\n").partition(":")
        if sep:
            pairs.append((name.strip(), value.strip()))
        index += 1
    index += 1  # the blank line
    headers = normalize_headers(pairs)
    length = _int_or_none(headers.get("content-length"))
    body_lines: list[str] = []
    if length is not None:
        wanted = length
        while index < len(lines) and wanted > 0:
            body_lines.append(lines[index])
            wanted -= len(lines[index].encode("utf-8"))
            index += 1
    else:
        while index < len(lines):
            stripped = lines[index].rstrip("\r\n")
            if _REQUEST_LINE.match(stripped) or _STATUS_LINE.match(stripped):
                break
            body_lines.append(lines[index])
            index += 1
    body = "".join(body_lines).strip("\r\n")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    return headers, (body or None), index


def _dechunk(body: str) -> str:
    out: list[str] = []
    rest = body
    while rest:
        size_line, _sep, rest = rest.partition("\n")
        try:
            size = int(size_line.strip().split(";")[0], 16)
        except ValueError:
            return body  # not really chunked; keep what was captured
        if size == 0:
            break
        out.append(rest[:size])
        rest = rest[size:].lstrip("\r\n")
    return "".join(out)


def _http_request(
    source: str,
    method: str,
    target: str,
    headers: dict[str, str],
    body: str | None,
    response: Response | None,
) -> Request:
    url = target
    if not re.match(r"^https?://", target):
        host = headers.get("host", "")
        url = f"https://{host}{target}" if host else target
    start_ns = None
    if response is not None and response.headers.get("date"):
        start_ns = _http_date(response.headers["date"])
    return Request(
        source=source,
        headers=headers,
        method=method,
        url=url,
        body=_body(body),
        response=response,
        start_ns=start_ns,
    )


# ---------------------------------------------------------------------------------------------
# curl command lines

_CURL_ARG_OPTIONS = {
    "-o", "--output", "-m", "--max-time", "--connect-timeout", "-w", "--write-out", "-x",
    "--proxy", "--retry", "--retry-delay", "--retry-max-time", "-e", "--referer", "-F", "--form",
    "-u", "--user", "-A", "--user-agent", "-b", "--cookie", "-c", "--cookie-jar", "--cacert",
    "--cert", "--key", "-E", "--resolve", "--limit-rate", "-T", "--upload-file", "-K", "--config",
    "--max-redirs", "--unix-socket", "--oauth2-bearer", "--aws-sigv4", "-r", "--range",
}  # fmt: skip
_CURL_DATA = {
    "-d", "--data", "--data-raw", "--data-binary", "--data-ascii", "--data-urlencode", "--json",
}  # fmt: skip
_ANSI_C_QUOTED = re.compile(r"\$'((?:[^'\\]|\\.)*)'", re.S)


def _parse_curl_text(
    text: str, name: str, first_line_number: int, base_dir: Path | None
) -> Iterator[Item]:
    # Join backslash continuations, remembering the line each command starts on.
    commands: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for offset, raw in enumerate(text.splitlines()):
        number = first_line_number + offset
        line = raw.rstrip()
        if not current:
            stripped = line.lstrip()
            if not re.match(r"^(?:\$\s*)?curl(?:\.exe)?\s", stripped):
                continue
            start = number
            line = re.sub(r"^\$\s*", "", stripped)
        if line.endswith("\\"):
            current.append(line[:-1])
            continue
        current.append(line)
        commands.append((start, " ".join(current)))
        current = []
    if current:
        commands.append((start, " ".join(current)))
    for number, command in commands:
        yield parse_curl_command(command, f"{name}:{number}", base_dir)


def parse_curl_command(command: str, source: str, base_dir: Path | None = None) -> Item:
    """One `curl ...` command line -> Request (method, URL, headers, body)."""
    command = _ANSI_C_QUOTED.sub(lambda m: shlex.quote(_ansi_c_unescape(m.group(1))), command)
    try:
        tokens = shlex.split(command)
    except ValueError as exc:
        return Skipped(source, f"cannot split the curl command: {exc}")
    method: str | None = None
    url: str | None = None
    header_pairs: list[tuple[str, str]] = []
    data: list[str] = []
    json_flag = False
    index = 1
    while index < len(tokens):
        token = tokens[index]
        index += 1
        option, value = token, None
        if token.startswith("--") and "=" in token:
            option, value = token.split("=", 1)
        elif re.match(r"^-[XHd]..*", token):
            option, value = token[:2], token[2:]
        takes_value = option in ("-X", "--request", "-H", "--header", "--url")
        takes_value = takes_value or option in _CURL_DATA or option in _CURL_ARG_OPTIONS
        if takes_value and value is None:
            if index >= len(tokens):
                break
            value = tokens[index]
            index += 1
        if option in ("-X", "--request"):
            method = (value or "").upper()
        elif option in ("-H", "--header"):
            name, sep, header_value = (value or "").partition(":")
            if sep:
                header_pairs.append((name.strip(), header_value.strip()))
        elif option in _CURL_DATA:
            data.append(_curl_data(value or "", base_dir))
            json_flag = json_flag or option == "--json"
        elif option == "--url":
            url = value
        elif not token.startswith("-") and url is None:
            url = token
    if url is None:
        return Skipped(source, "curl command without a URL")
    headers = normalize_headers(header_pairs)
    if json_flag:
        headers.setdefault("content-type", "application/json")
    body = "&".join(data) if data else None
    return Request(
        source=source,
        headers=headers,
        method=method or ("POST" if data else "GET"),
        url=url,
        body=_body(body),
    )


def _curl_data(value: str, base_dir: Path | None) -> str:
    if not value.startswith("@") or value == "@-":
        return value
    path = Path(value[1:])
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""  # the body file is not at hand; the headers still count


def _ansi_c_unescape(text: str) -> str:
    """Bash $'...' quoting, as Chrome's "Copy as cURL (bash)" writes it."""
    simple = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}

    def replace(match: re.Match[str]) -> str:
        escape = match.group(1)
        if escape[0] in "xuU":
            return chr(int(escape[1:], 16))
        return simple.get(escape, "\\" + escape)

    return re.sub(r"\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", replace, text)


# ---------------------------------------------------------------------------------------------
# shared helpers


def normalize_headers(value: Any) -> dict[str, str]:
    """Headers from a dict, a HAR list of {name, value} or (name, value) pairs.

    Names are lower-cased, repeated headers joined with ", ", and secret values redacted.
    """
    pairs: Iterable[tuple[Any, Any]]
    if isinstance(value, Mapping):
        pairs = value.items()
    elif isinstance(value, list):
        pairs = [
            (item.get("name"), item.get("value")) if isinstance(item, Mapping) else tuple(item)
            for item in value
            if isinstance(item, Mapping) or (isinstance(item, (list, tuple)) and len(item) == 2)
        ]
    else:
        return {}
    out: dict[str, str] = {}
    for name, raw in pairs:
        if not name or raw is None:
            continue
        key = str(name).strip().lower()
        if key.startswith(":"):
            continue  # HTTP/2 pseudo-headers in HAR files
        text = REDACTED if is_secret_name(key) else _header_text(raw)
        if key == "x-portkey-config":
            text = _redact_config(text)
        out[key] = f"{out[key]}, {text}" if key in out and out[key] != text else text
    return out


def _redact_config(text: str) -> str:
    """An inline Portkey config carries provider keys (api_key, aws_secret_access_key, ...)."""
    if not text.lstrip().startswith("{"):
        return text  # a saved config id
    try:
        config = orjson.loads(text)
    except orjson.JSONDecodeError:
        return REDACTED  # unreadable, so it cannot be shown safely
    return orjson.dumps(_redact_tree(config)).decode()


def _redact_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (REDACTED if is_secret_name(str(k)) else _redact_tree(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact_tree(v) for v in value]
    return value


def _header_text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return str(value)


def _body(value: Any) -> Any:
    """A body as parsed JSON when it is JSON, else the text; None when empty."""
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return value
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value)
    if not text.strip():
        return None
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            return orjson.loads(stripped)
        except orjson.JSONDecodeError:
            return text
    return text


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _http_date(text: str) -> int | None:
    try:
        return int(parsedate_to_datetime(text).timestamp()) * 1_000_000_000
    except (TypeError, ValueError):
        return None


def _first_time(*values: Any) -> int | None:
    for value in values:
        parsed = read_time(value)
        if parsed is not None:
            return parsed
    return None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _str_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:200]


def url_path(url: str | None) -> str:
    """The path of a URL ("" when there is none)."""
    if not url:
        return ""
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


__all__ = [
    "Item",
    "Request",
    "Response",
    "Skipped",
    "detect_format",
    "normalize_headers",
    "parse_curl_command",
    "parse_text",
    "read_inputs",
    "read_stream",
    "record_to_request",
    "requests_from_json",
    "url_path",
]
