#!/usr/bin/env python3
"""Writes the golden protobuf fixtures under Tests/ProtoWireTests/Fixtures.

The reference implementation (Python protobuf, i.e. upb) encodes the messages of
proto/imageedit/testing/v1/wire_test.proto; the Swift tests (Tests/ProtoWireTests/GoldenTests.swift)
hold the same values and check both directions: our encoder produces exactly these bytes, and our
decoder reads them back to the values. For each case NAME it writes NAME.bin (the wire bytes) and
NAME.txt (the values in text format, for people). Map entry order: our encoder writes entries
sorted by key (as C++, Java and Go do when asked for deterministic output); upb's deterministic
order differs, so only the single-entry map cases are compared byte for byte and "maps" is
decode-only.

Needs grpcio-tools and protobuf: pip install grpcio-tools protobuf
Usage: scripts/gen-golden.py            (run from anywhere; rewrites every fixture)
"""
import math
import os
import sys
import tempfile
import importlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "ProtoWireTests", "Fixtures")
PROTO = "imageedit/testing/v1/wire_test.proto"

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UINT32_MAX, UINT64_MAX = 2**32 - 1, 2**64 - 1


def compile_proto():
    from grpc_tools import protoc
    out = tempfile.mkdtemp(prefix="golden-")
    rc = protoc.main(["protoc", f"-I{os.path.join(ROOT, 'proto')}", f"--python_out={out}", PROTO])
    if rc != 0:
        sys.exit(f"protoc failed with {rc}")
    sys.path.insert(0, out)
    return importlib.import_module("imageedit.testing.v1.wire_test_pb2")


def cases(pb):
    A, N, U, V2, R = pb.AllTypes, pb.Nested, pb.UnpackedTypes, pb.NestedV2, pb.Recursive
    c = {}
    c["empty"] = A()
    c["scalars_typical"] = A(
        f_double=1.5, f_float=-2.25, f_int32=150, f_int64=1 << 40, f_uint32=300, f_uint64=1 << 50,
        f_sint32=-75, f_sint64=-(1 << 40), f_fixed32=0xDEADBEEF, f_fixed64=0x0123456789ABCDEF,
        f_sfixed32=-123456, f_sfixed64=-(1 << 60), f_bool=True, f_string="hello", f_bytes=bytes([0, 1, 2, 255]),
        f_color=pb.COLOR_GREEN, f_nested=N(id=7, label="seven"), mood=A.MOOD_GRUMPY, inner=A.Inner(value=-3))
    c["negative_int32"] = A(f_int32=-1)
    c["int_minimums"] = A(
        f_int32=INT32_MIN, f_int64=INT64_MIN, f_sint32=INT32_MIN, f_sint64=INT64_MIN,
        f_sfixed32=INT32_MIN, f_sfixed64=INT64_MIN, f_color=pb.COLOR_NEGATIVE)
    c["int_maximums"] = A(
        f_int32=INT32_MAX, f_int64=INT64_MAX, f_uint32=UINT32_MAX, f_uint64=UINT64_MAX, f_sint32=INT32_MAX,
        f_sint64=INT64_MAX, f_fixed32=UINT32_MAX, f_fixed64=UINT64_MAX, f_sfixed32=INT32_MAX, f_sfixed64=INT64_MAX)
    c["zigzag_small"] = A(f_sint32=-1, f_sint64=1, r_sint64=[0, -1, 1, -2, 2])
    c["negative_zero"] = A(f_double=-0.0, f_float=-0.0)
    c["float_specials"] = A(
        f_double=math.inf, f_float=-math.inf,
        r_double=[math.nan, math.inf, -math.inf, -0.0, 0.0, 1e-300, 5e-324],
        r_float=[math.nan, math.inf, -math.inf, -0.0, 3.4028234663852886e38, 1.401298464324817e-45])
    c["nan_scalars"] = A(f_double=math.nan, f_float=math.nan)
    c["unicode_strings"] = A(
        f_string="h\u00e9llo w\u00f6rld \u2713 \U0001F600 \u65e5\u672c\u8a9e", r_string=["", "a", "\U0001D11E", "\u00e9"],
        opt_string="\u00fcn\u00ef")
    c["repeated_packed"] = A(
        r_int32=[0, 1, -1, 300, INT32_MAX, INT32_MIN], r_sint64=[0, -1, 1, INT64_MIN, INT64_MAX],
        r_double=[1.0, -2.5], r_fixed32=[0, 1, UINT32_MAX], r_bool=[True, False, True],
        r_color=[pb.COLOR_RED, pb.COLOR_NEGATIVE, 7], r_uint64=[0, 1 << 63, UINT64_MAX], r_float=[0.5])
    c["repeated_unpacked"] = U(
        r_int32=[0, 1, -1, 300, INT32_MAX, INT32_MIN], r_sint64=[0, -1, 1, INT64_MIN, INT64_MAX],
        r_double=[1.0, -2.5], r_fixed32=[0, 1, UINT32_MAX], r_bool=[True, False, True],
        r_color=[pb.COLOR_RED, pb.COLOR_NEGATIVE, 7], r_uint64=[0, 1 << 63, UINT64_MAX], r_float=[0.5])
    c["repeated_messages"] = A(
        r_string=["one", "", "three"], r_bytes=[b"", b"\x00\xff"], r_nested=[N(), N(id=1, label="x"), N(id=-1)])
    m = A()
    for key, value in {"b": 2, "a": -1, "": 0, "\u00e9": 5, "aa": INT64_MIN}.items():
        m.m_string_int64[key] = value
    m.m_int32_nested[7].CopyFrom(N(label="seven"))
    m.m_int32_nested[-5].CopyFrom(N(id=1))
    m.m_int32_nested[0].CopyFrom(N())
    c["maps"] = m  # several entries: decode-only (upb's entry order differs from the sorted one we write)
    single = A()
    single.m_string_int64["\u00e9t\u00e9"] = -3
    single.m_int32_nested[-1].CopyFrom(N(id=2, label="two"))
    c["maps_single"] = single
    zero = A()
    zero.m_string_int64[""] = 0
    zero.m_int32_nested[0].CopyFrom(N())
    c["maps_default_entry"] = zero
    c["oneof_string"] = A(o_string="picked")
    c["oneof_nested"] = A(o_nested=N(id=3))
    c["oneof_nested_empty"] = A(o_nested=N())
    c["oneof_int32_zero"] = A(o_int32=0)
    c["optional_zero"] = A(opt_int32=0, opt_string="", opt_color=pb.COLOR_UNSPECIFIED)
    c["optional_set"] = A(opt_int32=-9, opt_string="x", opt_color=pb.COLOR_RED)
    c["max_field_number"] = A(max_field_number=1)
    c["unknown_enum_value"] = A(f_color=42, r_color=[1, 99], opt_color=-7)
    c["nested_v2"] = V2(
        id=5, label="v2", extra_fixed64=UINT64_MAX, extra_string="later", extra_sint32=-100,
        extra_fixed32=0x01020304, extra_message=N(id=9, label="deep"))
    r = R(value=1)
    r.child.value = 2
    r.child.child.value = 3
    r.other.value = 4
    c["recursive"] = r
    big = A()
    big.f_bytes = bytes(i % 251 for i in range(70000))
    big.f_string = "x" * 200
    c["large_bytes"] = big
    return c


def main():
    pb = compile_proto()
    from google.protobuf import text_format
    os.makedirs(FIXTURES, exist_ok=True)
    for old in os.listdir(FIXTURES):
        if old.endswith(".bin") or old.endswith(".txt"):
            os.remove(os.path.join(FIXTURES, old))
    for name, message in sorted(cases(pb).items()):
        data = message.SerializeToString(deterministic=True)
        with open(os.path.join(FIXTURES, name + ".bin"), "wb") as f:
            f.write(data)
        text = text_format.MessageToString(message, as_utf8=True)
        if len(text) > 4000:
            text = text[:4000] + "\n# ... (cut)\n"
        with open(os.path.join(FIXTURES, name + ".txt"), "w", encoding="utf-8") as f:
            f.write(f"# {type(message).DESCRIPTOR.full_name}, {len(data)} bytes\n{text}")
    print(f"wrote {len(cases(pb))} fixtures to {os.path.relpath(FIXTURES, ROOT)}")


if __name__ == "__main__":
    main()
