"""Capture file formats and how they are recognised.

Reading sniffs the content (gzip magic, then JSON vs protobuf vs length-prefixed records);
writing picks the format from the option or the file extension.
"""

from __future__ import annotations

from enum import StrEnum

from otelcli.errors import UsageError


class Format(StrEnum):
    PB = "pb"  # one ExportTraceServiceRequest (concatenated requests merge into one)
    JSON = "json"  # one OTLP/JSON request object (or, when read, an array of them)
    JSONL = "jsonl"  # one OTLP/JSON request per line (SDK otlp/stdout, Collector file exporter)
    LP = "lp"  # 4-byte big-endian length + protobuf record (Collector file exporter, format: proto)

    def describe(self) -> str:
        return FORMAT_DESCRIPTIONS[self]

    @classmethod
    def parse(cls, value: str | None) -> Format | None:
        """A --to-format value; None stays None (the extension decides)."""
        if value is None:
            return None
        try:
            return cls(value.lower())
        except ValueError:
            raise UsageError(
                f"--to-format {value!r} is not a capture format",
                hint="choose pb, json, jsonl or lp",
            ) from None


FORMAT_DESCRIPTIONS = {
    Format.PB: "protobuf ExportTraceServiceRequest",
    Format.JSON: "OTLP/JSON document",
    Format.JSONL: "OTLP/JSON lines",
    Format.LP: "length-prefixed protobuf records",
}

_EXTENSIONS = {
    ".pb": Format.PB,
    ".binpb": Format.PB,
    ".protobuf": Format.PB,
    ".json": Format.JSON,
    ".jsonl": Format.JSONL,
    ".ndjson": Format.JSONL,
    ".lp": Format.LP,
}


CAPTURE_EXTENSIONS = (*_EXTENSIONS, ".otlp")  # the names a folder's captures have


def format_for_path(path: str, requested: Format | None = None) -> tuple[Format, bool]:
    """The (format, gzip) to write `path` with; an explicit format wins over the extension."""
    name = path.lower()
    gzipped = name.endswith(".gz")
    if gzipped:
        name = name[:-3]
    if requested is not None:
        return requested, gzipped
    if path == "-":
        return Format.JSONL, False
    for extension, fmt in _EXTENSIONS.items():
        if name.endswith(extension):
            return fmt, gzipped
    raise UsageError(
        f"cannot tell the output format from {path!r}",
        hint="use an extension (.pb .json .jsonl .lp, optionally .gz) or --to-format",
    )
