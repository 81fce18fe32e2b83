"""Use cases: one module per command, a typed request in and a typed result out.

A flow reads its inputs through otlp/, does its work with genai/, transport/ and the rest of the
core, and returns a result object with `to_dict()` (the JSON report) and `error` (the typed
error the run ends with, or None). Flows never import typer or render/ and never print: the
command module parses options into the request and hands the result to the renderer.
"""

from __future__ import annotations

from typing import Any, Protocol

from otelcli.errors import OtelcliError


class Result(Protocol):
    """What every flow returns."""

    @property
    def error(self) -> OtelcliError | None: ...

    def to_dict(self) -> Any: ...
