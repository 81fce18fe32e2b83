"""Just enough of the protobuf wire format to walk top-level fields without parsing them."""

from __future__ import annotations

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def read_varint(data: bytes | bytearray, pos: int) -> tuple[int, int] | None:
    """(value, next position) of the varint at `pos`; None when the data ends first."""
    result = shift = 0
    while pos < len(data):
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")
    return None


def field_end(data: bytes | bytearray, pos: int) -> tuple[int, int, int] | None:
    """(field number, wire type, end offset) of the complete field at `pos`, or None if cut short.

    Raises ValueError on bytes that cannot start a field.
    """
    tag = read_varint(data, pos)
    if tag is None:
        return None
    key, pos = tag
    number, wire_type = key >> 3, key & 7
    if number == 0 or wire_type not in (VARINT, FIXED64, LENGTH_DELIMITED, FIXED32):
        raise ValueError(f"unexpected field tag {key}")
    if wire_type == VARINT:
        value = read_varint(data, pos)
        return None if value is None else (number, wire_type, value[1])
    if wire_type == FIXED64:
        end = pos + 8
    elif wire_type == FIXED32:
        end = pos + 4
    else:
        length = read_varint(data, pos)
        if length is None:
            return None
        end = length[1] + length[0]
    return (number, wire_type, end) if end <= len(data) else None


def string_field(data: bytes, wanted: int) -> str | None:
    """The first length-delimited field `wanted` of a message, as text; None if absent/invalid."""
    pos = 0
    try:
        while pos < len(data):
            found = field_end(data, pos)
            if found is None:
                return None
            number, wire_type, end = found
            if number == wanted and wire_type == LENGTH_DELIMITED:
                header = read_varint(data, pos)
                assert header is not None
                length = read_varint(data, header[1])
                assert length is not None
                return data[length[1] : end].decode("utf-8", "replace")
            pos = end
    except ValueError:
        return None
    return None
