//! The binary protocol's message header (Thrift binary protocol spec, "Message"), in both forms:
//!
//! ```text
//! strict: 1vvvvvvv vvvvvvvv unused 00000mmm | name length (i32) | name | seq id (i32)
//! old:    name length (i32) | name | 00000mmm | seq id (i32)
//! ```
//!
//! The version is fixed to 1 (`0x8001`), so a strict header starts with `0x80 0x01`; a name
//! length is never negative, so the first bit tells the forms apart. Like Apache Thrift's
//! non-strict reader, both forms are accepted; [`MessageHeader::encode`] writes the strict one
//! unless the header says otherwise.

use bytes::{BufMut, BytesMut};

use crate::reader::Reader;
use crate::{Error, Limits};

/// The version word of a strict header, message type bits clear.
pub const VERSION_1: u32 = 0x8001_0000;
/// The spec: "the 5 leading bits [of the type byte] must be 0", and the version is 15 bits.
const VERSION_MASK: u32 = 0xffff_0000;

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// A request expecting a reply (1).
    Call,
    /// A reply: a struct whose field 0 is the result, other fields declared exceptions (2).
    Reply,
    /// An undeclared failure: a `TApplicationException` struct (3).
    Exception,
    /// A request expecting no reply (4).
    Oneway,
}

impl MessageType {
    /// The wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            MessageType::Call => 1,
            MessageType::Reply => 2,
            MessageType::Exception => 3,
            MessageType::Oneway => 4,
        }
    }

    /// From the wire value.
    ///
    /// # Errors
    /// [`Error::BadMessageType`] for anything but 1..=4.
    pub fn from_u8(v: u8) -> Result<MessageType, Error> {
        match v {
            1 => Ok(MessageType::Call),
            2 => Ok(MessageType::Reply),
            3 => Ok(MessageType::Exception),
            4 => Ok(MessageType::Oneway),
            _ => Err(Error::BadMessageType(v)),
        }
    }
}

/// A message header, borrowing its name from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageHeader<'a> {
    /// The method name (the spec says UTF-8; not checked, a proxy routes on the bytes).
    pub name: &'a [u8],
    /// Call, reply, exception or oneway.
    pub kind: MessageType,
    /// Pairs a reply with its call on a connection.
    pub seqid: i32,
    /// Whether it came (or goes out) in the strict, versioned form.
    pub strict: bool,
}

impl<'a> MessageHeader<'a> {
    /// Reads a header from the start of `buf`; returns it and the bytes it took.
    ///
    /// The input is a frame's payload, so an early end is an error, not "need more".
    ///
    /// # Errors
    /// [`Error::Truncated`], [`Error::BadVersion`], [`Error::BadMessageType`],
    /// [`Error::NameTooLong`] (checked before the name is read).
    pub fn load(buf: &'a [u8], limits: &Limits) -> Result<(MessageHeader<'a>, usize), Error> {
        let mut r = Reader::new(buf);
        let first = r.i32()?;
        let header = if first < 0 {
            let word = first as u32;
            // The spec: version 1, and the 5 bits above the 3-bit type must be zero.
            if word & VERSION_MASK != VERSION_1 || word & 0xf8 != 0 {
                return Err(Error::BadVersion(word));
            }
            let kind = MessageType::from_u8((word & 0x07) as u8)?;
            let name = read_name(&mut r, limits)?;
            let seqid = r.i32()?;
            MessageHeader {
                name,
                kind,
                seqid,
                strict: true,
            }
        } else {
            let name = name_bytes(&mut r, first.unsigned_abs(), limits)?;
            let kind = MessageType::from_u8(r.u8()?)?;
            let seqid = r.i32()?;
            MessageHeader {
                name,
                kind,
                seqid,
                strict: false,
            }
        };
        Ok((header, r.pos()))
    }

    /// Appends the header in its form (strict or old).
    ///
    /// # Errors
    /// [`Error::TooLargeToEncode`] when the name is over `i32::MAX` bytes.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), Error> {
        let len = i32::try_from(self.name.len()).map_err(|_| Error::TooLargeToEncode)?;
        if self.strict {
            out.put_u32(VERSION_1 | u32::from(self.kind.as_u8()));
            out.put_i32(len);
            out.put_slice(self.name);
        } else {
            out.put_i32(len);
            out.put_slice(self.name);
            out.put_u8(self.kind.as_u8());
        }
        out.put_i32(self.seqid);
        Ok(())
    }

    /// Where the seqid sits in the encoded header (to rewrite it in a prepared request).
    pub fn seqid_offset(&self) -> usize {
        if self.strict {
            8 + self.name.len()
        } else {
            5 + self.name.len()
        }
    }
}

fn read_name<'a>(r: &mut Reader<'a>, limits: &Limits) -> Result<&'a [u8], Error> {
    let len = r.i32()?;
    if len < 0 {
        return Err(Error::NegativeLength(len));
    }
    name_bytes(r, len.unsigned_abs(), limits)
}

fn name_bytes<'a>(r: &mut Reader<'a>, len: u32, limits: &Limits) -> Result<&'a [u8], Error> {
    if len as usize > limits.max_name {
        return Err(Error::NameTooLong {
            len,
            max: limits.max_name,
        });
    }
    r.bytes(len as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strict CALL "ping", seqid 7: the spec's layout byte by byte.
    const STRICT_CALL: &[u8] = &[
        0x80, 0x01, 0x00, 0x01, // version 1, unused, type CALL
        0x00, 0x00, 0x00, 0x04, b'p', b'i', b'n', b'g', // name
        0x00, 0x00, 0x00, 0x07, // seqid
    ];
    /// Old form REPLY "ping", seqid -2.
    const OLD_REPLY: &[u8] = &[
        0x00, 0x00, 0x00, 0x04, b'p', b'i', b'n', b'g', // name
        0x02, // type REPLY
        0xff, 0xff, 0xff, 0xfe, // seqid
    ];

    #[test]
    fn strict_header() {
        let (h, n) = MessageHeader::load(STRICT_CALL, &Limits::default()).unwrap();
        assert_eq!(n, STRICT_CALL.len());
        assert_eq!(
            h,
            MessageHeader {
                name: b"ping",
                kind: MessageType::Call,
                seqid: 7,
                strict: true
            }
        );
        let mut out = BytesMut::new();
        h.encode(&mut out).unwrap();
        assert_eq!(&out[..], STRICT_CALL);
        assert_eq!(h.seqid_offset(), 12);
    }

    #[test]
    fn old_header() {
        let (h, n) = MessageHeader::load(OLD_REPLY, &Limits::default()).unwrap();
        assert_eq!(n, OLD_REPLY.len());
        assert_eq!(
            (h.name, h.kind, h.seqid, h.strict),
            (&b"ping"[..], MessageType::Reply, -2, false)
        );
        let mut out = BytesMut::new();
        h.encode(&mut out).unwrap();
        assert_eq!(&out[..], OLD_REPLY);
        assert_eq!(h.seqid_offset(), 9);
    }

    #[test]
    fn every_message_type_and_no_other() {
        for t in 1..=4u8 {
            let mut m = STRICT_CALL.to_vec();
            m[3] = t;
            let (h, _) = MessageHeader::load(&m, &Limits::default()).unwrap();
            assert_eq!(h.kind.as_u8(), t);
        }
        for t in [0u8, 5, 7] {
            let mut m = STRICT_CALL.to_vec();
            m[3] = t;
            assert_eq!(
                MessageHeader::load(&m, &Limits::default()),
                Err(Error::BadMessageType(t))
            );
            let mut m = OLD_REPLY.to_vec();
            m[8] = t;
            assert_eq!(
                MessageHeader::load(&m, &Limits::default()),
                Err(Error::BadMessageType(t))
            );
        }
    }

    #[test]
    fn version_and_reserved_bits_are_checked() {
        let mut m = STRICT_CALL.to_vec();
        m[1] = 0x02; // version 2
        assert_eq!(
            MessageHeader::load(&m, &Limits::default()),
            Err(Error::BadVersion(0x8002_0001))
        );
        let mut m = STRICT_CALL.to_vec();
        m[3] = 0x09; // a bit above the 3 type bits
        assert_eq!(
            MessageHeader::load(&m, &Limits::default()),
            Err(Error::BadVersion(0x8001_0009))
        );
        // The "unused" byte is ignored.
        let mut m = STRICT_CALL.to_vec();
        m[2] = 0xaa;
        assert!(MessageHeader::load(&m, &Limits::default()).is_ok());
    }

    #[test]
    fn names_are_bounded_before_they_are_read() {
        let limits = Limits {
            max_name: 3,
            ..Limits::default()
        };
        assert_eq!(
            MessageHeader::load(STRICT_CALL, &limits),
            Err(Error::NameTooLong { len: 4, max: 3 })
        );
        assert_eq!(
            MessageHeader::load(OLD_REPLY, &limits),
            Err(Error::NameTooLong { len: 4, max: 3 })
        );
        let huge = [0x80, 0x01, 0x00, 0x01, 0x7f, 0xff, 0xff, 0xff];
        assert!(matches!(
            MessageHeader::load(&huge, &Limits::default()),
            Err(Error::NameTooLong { .. })
        ));
        let negative = [0x80, 0x01, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(
            MessageHeader::load(&negative, &Limits::default()),
            Err(Error::NegativeLength(-1))
        );
        // A non-UTF-8 name is fine.
        let mut m = STRICT_CALL.to_vec();
        m[8] = 0xff;
        assert_eq!(
            MessageHeader::load(&m, &Limits::default()).unwrap().0.name[0],
            0xff
        );
    }

    #[test]
    fn every_prefix_is_truncated() {
        for msg in [STRICT_CALL, OLD_REPLY] {
            for end in 0..msg.len() {
                assert_eq!(
                    MessageHeader::load(&msg[..end], &Limits::default()),
                    Err(Error::Truncated),
                    "prefix of {end}"
                );
            }
        }
    }
}
