"""Writes Thrift messages with Apache Thrift's Python library, one hex line per case:
`name hex`. Used by tests/python.rs to cross-check hawser-thrift against the real library."""

import sys

from thrift.protocol.TBinaryProtocol import TBinaryProtocol
from thrift.Thrift import TApplicationException, TMessageType, TType
from thrift.transport.TTransport import TFramedTransport, TMemoryBuffer


def message(name, kind, seqid, field, value, strict=True):
    mem = TMemoryBuffer()
    framed = TFramedTransport(mem)
    proto = TBinaryProtocol(framed, strictWrite=strict)
    proto.writeMessageBegin(name, kind, seqid)
    proto.writeStructBegin("args")
    proto.writeFieldBegin("payload", TType.STRING, field)
    proto.writeBinary(value)
    proto.writeFieldEnd()
    proto.writeFieldStop()
    proto.writeStructEnd()
    proto.writeMessageEnd()
    framed.flush()
    return mem.getvalue()


def nested():
    """A reply whose struct holds one field of every type: for skip_struct."""
    mem = TMemoryBuffer()
    framed = TFramedTransport(mem)
    p = TBinaryProtocol(framed)
    p.writeMessageBegin("all", TMessageType.REPLY, -5)
    p.writeStructBegin("r")
    p.writeFieldBegin("b", TType.BOOL, 1); p.writeBool(True); p.writeFieldEnd()
    p.writeFieldBegin("y", TType.BYTE, 2); p.writeByte(-3); p.writeFieldEnd()
    p.writeFieldBegin("d", TType.DOUBLE, 3); p.writeDouble(2.5); p.writeFieldEnd()
    p.writeFieldBegin("s", TType.I16, 4); p.writeI16(-300); p.writeFieldEnd()
    p.writeFieldBegin("i", TType.I32, 5); p.writeI32(70000); p.writeFieldEnd()
    p.writeFieldBegin("l", TType.I64, 6); p.writeI64(-(2**40)); p.writeFieldEnd()
    p.writeFieldBegin("m", TType.MAP, 7)
    p.writeMapBegin(TType.STRING, TType.LIST, 2)
    for k in ("a", "bc"):
        p.writeString(k)
        p.writeListBegin(TType.I32, 2); p.writeI32(1); p.writeI32(2); p.writeListEnd()
    p.writeMapEnd(); p.writeFieldEnd()
    p.writeFieldBegin("t", TType.SET, 8)
    p.writeSetBegin(TType.STRUCT, 1)
    p.writeStructBegin("x"); p.writeFieldStop(); p.writeStructEnd()
    p.writeSetEnd(); p.writeFieldEnd()
    p.writeFieldBegin("success", TType.STRING, 0); p.writeBinary(b"ok"); p.writeFieldEnd()
    p.writeFieldStop()
    p.writeStructEnd()
    p.writeMessageEnd()
    framed.flush()
    return mem.getvalue()


def app_exception(name, seqid, kind, text):
    """An EXCEPTION message as Apache Thrift's servers write it for an undeclared failure."""
    mem = TMemoryBuffer()
    framed = TFramedTransport(mem)
    p = TBinaryProtocol(framed)
    p.writeMessageBegin(name, TMessageType.EXCEPTION, seqid)
    TApplicationException(kind, text).write(p)
    p.writeMessageEnd()
    framed.flush()
    return mem.getvalue()


cases = {
    "strict_call": message("echo", TMessageType.CALL, 7, 1, b"hello"),
    "old_call": message("echo", TMessageType.CALL, 7, 1, b"hello", strict=False),
    "strict_reply": message("echo", TMessageType.REPLY, 2**31 - 1, 0, b"x" * 300),
    "oneway": message("fire", TMessageType.ONEWAY, 0, 1, b""),
    "nested": nested(),
    "app_exception": app_exception(
        "echo", 9, TApplicationException.INTERNAL_ERROR, "No hosts are available"
    ),
}
for name, wire in cases.items():
    sys.stdout.write("%s %s\n" % (name, wire.hex()))
