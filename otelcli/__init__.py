"""otelcli: OpenTelemetry for LLM applications, from the terminal."""

__version__ = "0.1.0"
