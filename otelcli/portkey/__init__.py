"""Portkey-style tracing headers (x-portkey-trace-id, span-id, ...) -> OTLP traces, and back.

inputs: captured requests in any form -> Request records; build: Request records -> OTLP
batches plus a summary; ids: Portkey's id mapping; headers: W3C helpers and the reverse
direction; bodies: LLM request/response bodies -> GenAI attributes.
"""
