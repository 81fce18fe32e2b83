"""Reading captured requests in every supported form."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from otelcli.errors import InvalidInputError
from otelcli.portkey.inputs import (
    Request,
    Skipped,
    detect_format,
    normalize_headers,
    parse_curl_command,
    parse_text,
    read_inputs,
    read_stream,
)

DATA = Path(__file__).parents[1] / "data" / "portkey"
SECRETS = ("sk-proj-", "sk-ant-", "pk-live-", "pk-DUMP", "pk-JSONL", "CURLSECRET", "LOGSECRET")


def requests_of(items: list[Request | Skipped]) -> list[Request]:
    return [item for item in items if isinstance(item, Request)]


def assert_no_secrets(items: list[Request | Skipped]) -> None:
    text = repr(items)
    for secret in SECRETS:
        assert secret not in text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"log": {"entries": []}}', "json"),
        ("[", "json"),
        ("\ufeff{", "json"),
        ("curl https://api.portkey.ai/v1/chat/completions \\", "curl"),
        ("$ curl -s https://x", "curl"),
        ("POST /v1/chat/completions HTTP/1.1", "http"),
        ("HTTP/1.1 200 OK", "http"),
        ("hello world", None),
    ],
)
def test_detect_format(line: str, expected: str | None) -> None:
    assert detect_format(line) == expected


def test_har_entries_with_timings_and_responses() -> None:
    items = list(read_inputs([str(DATA / "agent-run.har")]))
    assert len(items) == 5
    noise, planner, summary, embed, failed = requests_of(items)
    assert noise.method == "GET" and noise.url and noise.url.endswith("app.js")
    assert planner.headers["x-portkey-trace-id"] == "1729"
    assert planner.body["model"] == "gpt-4o"
    # 2025-03-04T10:15:01.120Z
    assert planner.start_ns == 1_741_083_301_120_000_000
    assert planner.duration_ns == 1_184_600_000
    # Time to first byte: blocked + dns + connect + send + wait (ssl is inside connect).
    assert planner.first_byte_ns == pytest.approx((1.2 + 0.4 + 21.0 + 0.3 + 1150.2) * 1e6)
    assert planner.response is not None and planner.response.status == 200
    assert planner.response.body["usage"]["prompt_tokens"] == 1412
    assert summary.response is not None
    assert isinstance(summary.response.body, str)  # an event stream stays text
    assert summary.response.body.startswith("event: message_start")
    assert embed.headers["x-portkey-parent-span-id"] == "12"
    assert failed.response is not None and failed.response.status == 429
    assert_no_secrets(items)
    assert planner.headers["authorization"] == "***"


def test_raw_http_dump_pairs_requests_with_responses() -> None:
    items = list(read_inputs([str(DATA / "support-desk.http")]))
    first, second = requests_of(items)
    assert len(items) == 2
    assert first.source.endswith("support-desk.http:1")
    assert first.url == "https://api.portkey.ai/v1/chat/completions"
    assert first.headers["traceparent"].startswith("00-4bf92f35")
    assert first.body["seed"] == 7  # Content-Length framed the body exactly
    assert first.response is not None and first.response.status == 200
    assert first.response.body["id"] == "chatcmpl-C1a"
    assert first.start_ns == 1_741_161_601_000_000_000  # from the response's Date header
    assert second.headers["x-portkey-span-name"] == "Draft reply"
    assert second.response is not None and second.response.body["id"] == "chatcmpl-C1b"
    assert second.headers["x-portkey-virtual-key"] == "***"
    assert_no_secrets(items)


def test_http_dump_without_content_length_and_stray_response() -> None:
    text = (
        "HTTP/1.1 200 OK\n\n{}\n\n"
        "POST /v1/embeddings HTTP/1.1\nHost: gw.internal:8787\nX-Portkey-Trace-Id: t1\n\n"
        '{"model": "text-embedding-3-small", "input": "hi"}\n'
    )
    items = list(parse_text(text, "dump.txt"))
    assert isinstance(items[0], Skipped) and "without a request" in items[0].reason
    request = items[1]
    assert isinstance(request, Request)
    assert request.url == "https://gw.internal:8787/v1/embeddings"
    assert request.headers["x-portkey-trace-id"] == "t1"
    assert request.body == {"model": "text-embedding-3-small", "input": "hi"}


def test_curl_commands_in_every_common_spelling() -> None:
    items = list(read_inputs([str(DATA / "eval-run.curl")]))
    assert [i.source.rsplit(":", 1)[1] for i in items] == ["2", "11", "21", "23"]
    root, case1, case2, models = requests_of(items)
    assert root.method == "POST" and root.body["temperature"] == 0
    assert root.headers["x-portkey-api-key"] == "***"
    # Chrome's $'...' quoting, with \' and \n escapes.
    assert case1.body["messages"][0]["content"] == "It's case\n1"
    assert case1.headers["x-portkey-parent-span-id"] == "root"
    # -XPOST and -H'...' glued to their values; --data @file read next to the curl file.
    assert case2.method == "POST"
    assert case2.headers["x-portkey-provider"] == "openai"
    assert case2.body["model"] == "gpt-4o"
    assert models.method == "GET" and models.body is None
    assert_no_secrets(items)


def test_curl_variants() -> None:
    item = parse_curl_command(
        "curl --request=PUT --url https://h/v1/responses --header 'X-Portkey-Trace-Id: a' "
        '--json \'{"model": "gpt-4.1", "input": "hi"}\'',
        "cmd",
    )
    assert isinstance(item, Request)
    assert item.method == "PUT" and item.url == "https://h/v1/responses"
    assert item.headers["content-type"] == "application/json"
    assert item.body == {"model": "gpt-4.1", "input": "hi"}
    missing = parse_curl_command("curl -H 'a: b'", "cmd")
    assert isinstance(missing, Skipped) and "URL" in missing.reason
    broken = parse_curl_command("curl 'unterminated", "cmd")
    assert isinstance(broken, Skipped)


def test_jsonl_records_bad_lines_are_reported_not_dropped() -> None:
    items = list(read_inputs([str(DATA / "support-bot.jsonl")]))
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert [s.source.rsplit(":", 1)[1] for s in skipped] == ["4", "9"]
    assert "not valid JSON" in skipped[0].reason
    assert "no request headers" in skipped[1].reason
    first = requests_of(items)[0]
    assert first.start_ns == 1_741_251_600_000_000_000 and first.duration_ns == 900_000_000
    assert first.response is not None and first.response.headers["x-portkey-cache-status"]
    csat = requests_of(items)[-1]
    assert csat.start_ns == 1_741_251_607_000_000_000  # epoch milliseconds
    assert csat.duration_ns is None
    assert_no_secrets(items)


class _TwoPartStream(io.RawIOBase):
    """Serves the first chunk, then fails: proves JSON Lines are consumed incrementally."""

    def __init__(self, first: bytes) -> None:
        self._first: bytes | None = first

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._first is None:
            raise OSError("the rest of the stream is not there yet")
        data, self._first = self._first, None
        buffer[: len(data)] = data
        return len(data)


def test_jsonl_is_streamed_line_by_line() -> None:
    line = json.dumps({"headers": {"x-portkey-trace-id": "t"}, "body": {"model": "m"}})
    items = read_stream(_TwoPartStream(line.encode() + b"\n"), "live.jsonl")  # type: ignore[arg-type]
    first = next(items)
    assert isinstance(first, Request) and first.headers["x-portkey-trace-id"] == "t"
    with pytest.raises(InvalidInputError):
        next(items)


def test_portkey_log_records() -> None:
    items = list(read_inputs([str(DATA / "portkey-logs.json")]))
    root, child, checker = requests_of(items)
    assert root.log_fields == {
        "trace_id": "e6c22c44-0008-5539-968b-6fb6ecf5ebed",
        "span_id": "12801218372391038154",
        "span_name": "Crew.kickoff",
    }
    assert root.url is None
    assert root.start_ns == 1_741_340_000_000_000_000
    assert root.duration_ns == 5_400_000_000
    assert child.log_fields["parent_span_id"] == "12801218372391038154"
    assert child.provider == "openai"
    assert child.log_metadata["_user"] == "analyst-3"
    # request/response given as JSON strings, timestamp as createdAt.
    assert checker.provider == "anthropic"
    assert checker.response is not None and checker.response.body["id"] == "msg_01L2"
    assert checker.start_ns == 1_741_340_002_350_000_000  # 2025-03-07T09:33:22.350Z
    assert checker.duration_ns == 812_000_000
    assert_no_secrets(items)


def test_provider_credentials_are_redacted() -> None:
    headers = normalize_headers(
        {
            "X-Portkey-AWS-Access-Key-Id": "AKIAEXAMPLE",
            "x-portkey-aws-secret-access-key": "wJalrXUtnFEMI",
            "x-portkey-vertex-service-account-json": '{"private_key": "-----BEGIN"}',
            "x-portkey-config": json.dumps(
                {"targets": [{"provider": "bedrock", "aws_secret_access_key": "wJalr"}]}
            ),
            "x-portkey-trace-id": "kept",
        }
    )
    text = json.dumps(headers)
    for secret in ("AKIAEXAMPLE", "wJalr", "BEGIN"):
        assert secret not in text
    assert headers["x-portkey-trace-id"] == "kept"
    assert json.loads(headers["x-portkey-config"])["targets"][0]["provider"] == "bedrock"


def test_log_export_rows_and_wrappers() -> None:
    document = {
        "data": [
            {
                "trace_id": "exp-1",
                "span_id": "a",
                "span_name": "Export row",
                "created_at": "2025-03-07 09:00:00.5",
                "response_time": 250,
                "request": {"body": {"model": "gpt-4o", "messages": []}},
            }
        ]
    }
    (item,) = list(parse_text(json.dumps(document, indent=2), "export.json"))
    assert isinstance(item, Request)
    assert item.source == "export.json#1"
    assert item.log_fields == {"trace_id": "exp-1", "span_id": "a", "span_name": "Export row"}
    assert item.start_ns == 1_741_338_000_500_000_000 and item.duration_ns == 250_000_000


def test_gzip_and_stdin(tmp_path: Path) -> None:
    line = json.dumps({"headers": {"x-portkey-trace-id": "gz"}, "body": {"model": "m"}}) + "\n"
    path = tmp_path / "records.jsonl.gz"
    path.write_bytes(gzip.compress(line.encode()))
    (item,) = list(read_inputs([str(path)]))
    assert isinstance(item, Request) and item.headers["x-portkey-trace-id"] == "gz"
    (from_stdin,) = list(read_inputs(["-"], stdin=io.BytesIO(line.encode())))
    assert isinstance(from_stdin, Request) and from_stdin.source == "<stdin>:1"


def test_unrecognised_and_missing_inputs(tmp_path: Path) -> None:
    (item,) = list(parse_text("just some notes\n", "notes.txt"))
    assert isinstance(item, Skipped) and "unrecognised" in item.reason
    assert list(parse_text("\n\n", "empty")) == []
    with pytest.raises(InvalidInputError) as error:
        list(read_inputs([str(tmp_path / "nope.har")]))
    assert error.value.hint
