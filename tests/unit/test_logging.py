"""JSON logs carry the current trace and span ids."""

from __future__ import annotations

import json
import logging

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from libs.servicekit.telemetry import JsonLogFormatter


def test_log_lines_are_json_with_trace_ids() -> None:
    tracer = TracerProvider().get_tracer("test")
    formatter = JsonLogFormatter("registry")
    record = logging.LogRecord("tanhui", logging.INFO, __file__, 1, "issued %s", ("批次",), None)
    with tracer.start_as_current_span("request") as span:
        line = json.loads(formatter.format(record))
        context = span.get_span_context()
    assert line["message"] == "issued 批次" and line["service"] == "registry"
    assert line["trace_id"] == format(context.trace_id, "032x")
    assert line["span_id"] == format(context.span_id, "016x")
    outside = json.loads(formatter.format(record))
    assert "trace_id" not in outside
    assert trace.get_current_span().get_span_context().is_valid is False
