"""OTLP attribute values <-> plain Python values.

AnyValue becomes str | bool | int | float | bytes | list | dict | None; the reverse picks the
OTLP type from the Python type (bool before int, since bool is an int in Python).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    KeyValue,
    KeyValueList,
)

AttrValue = Any  # str | bool | int | float | bytes | list[AttrValue] | dict[str, AttrValue] | None


def to_python(value: AnyValue) -> AttrValue:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        return value.double_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "array_value":
        return [to_python(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: to_python(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value
    return None


def attributes_to_dict(attributes: Iterable[KeyValue]) -> dict[str, AttrValue]:
    """Attributes as a plain dict; the common scalar cases are inlined because this is hot."""
    out: dict[str, AttrValue] = {}
    for kv in attributes:
        v = kv.value
        kind = v.WhichOneof("value")
        if kind == "string_value":
            out[kv.key] = v.string_value
        elif kind == "int_value":
            out[kv.key] = v.int_value
        else:
            out[kv.key] = to_python(v)
    return out


def fill_any_value(target: AnyValue, value: AttrValue) -> None:
    """Write a Python value into an AnyValue in place (an int beyond 64 bits as its digits)."""
    if isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        if -(1 << 63) <= value < 1 << 63:
            target.int_value = value
        else:  # no OTLP int holds it: keep its digits
            target.string_value = str(value)
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, str):
        target.string_value = value
    elif isinstance(value, bytes):
        target.bytes_value = value
    elif isinstance(value, (list, tuple)):
        array = ArrayValue()
        for item in value:
            fill_any_value(array.values.add(), item)
        target.array_value.CopyFrom(array)
    elif isinstance(value, Mapping):
        kvlist = KeyValueList()
        for key, item in value.items():
            kv = kvlist.values.add(key=str(key))
            fill_any_value(kv.value, item)
        target.kvlist_value.CopyFrom(kvlist)
    elif value is None:
        target.Clear()
    else:
        target.string_value = str(value)


def make_attributes(values: Mapping[str, AttrValue]) -> list[KeyValue]:
    out = []
    for key, value in values.items():
        kv = KeyValue(key=key)
        fill_any_value(kv.value, value)
        out.append(kv)
    return out


def set_attribute(attributes: Any, key: str, value: AttrValue) -> None:
    """Set (replace or append) one key in a repeated KeyValue field."""
    for kv in attributes:
        if kv.key == key:
            kv.value.Clear()
            fill_any_value(kv.value, value)
            return
    fill_any_value(attributes.add(key=key).value, value)


def remove_attribute(attributes: Any, key: str) -> bool:
    for index, kv in enumerate(attributes):
        if kv.key == key:
            del attributes[index]
            return True
    return False
