//! Struct bodies in the binary protocol (spec sections "Struct", "List and Set", "Map"):
//!
//! ```text
//! struct       ::= ( field-type:i8 field-id:i16 field-value )* stop:i8(0)
//! list | set   ::= element-type:i8 size:i32 element*
//! map          ::= key-type:i8 value-type:i8 size:i32 ( key value )*
//! binary       ::= length:i32 bytes        (string is binary holding UTF-8)
//! bool = i8 (1 byte), i8, i16, i32, i64, double (8 bytes, IEEE 754 bits), uuid (16 bytes)
//! ```
//!
//! This module does not build values: it skips them (to validate a body without a schema) and
//! finds one binary field, which is what a proxy or a load generator needs. Every length and size
//! is checked against what is left of the input before it is used, and nesting is bounded by
//! [`crate::Limits::max_depth`], so no input can panic, loop long or recurse deeply.

use bytes::{BufMut, BytesMut};

use crate::reader::Reader;
use crate::{Error, Limits};

/// A field or element type of the binary protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TType {
    /// 2, one byte.
    Bool,
    /// 3, one byte.
    I8,
    /// 4, eight bytes.
    Double,
    /// 6.
    I16,
    /// 8.
    I32,
    /// 10.
    I64,
    /// 11: binary and string.
    Binary,
    /// 12: struct, union and exception.
    Struct,
    /// 13.
    Map,
    /// 14.
    Set,
    /// 15.
    List,
    /// 16: sixteen bytes, no length.
    Uuid,
}

/// The stop field that ends a struct.
pub const STOP: u8 = 0;

impl TType {
    /// The wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            TType::Bool => 2,
            TType::I8 => 3,
            TType::Double => 4,
            TType::I16 => 6,
            TType::I32 => 8,
            TType::I64 => 10,
            TType::Binary => 11,
            TType::Struct => 12,
            TType::Map => 13,
            TType::Set => 14,
            TType::List => 15,
            TType::Uuid => 16,
        }
    }

    /// From the wire value (STOP and VOID are not value types).
    ///
    /// # Errors
    /// [`Error::BadType`] for anything else.
    pub fn from_u8(v: u8) -> Result<TType, Error> {
        Ok(match v {
            2 => TType::Bool,
            3 => TType::I8,
            4 => TType::Double,
            6 => TType::I16,
            8 => TType::I32,
            10 => TType::I64,
            11 => TType::Binary,
            12 => TType::Struct,
            13 => TType::Map,
            14 => TType::Set,
            15 => TType::List,
            16 => TType::Uuid,
            _ => return Err(Error::BadType(v)),
        })
    }

    /// The fewest bytes one value of this type takes (to reject container sizes that cannot fit
    /// before iterating).
    fn min_len(self) -> usize {
        match self {
            TType::Bool | TType::I8 | TType::Struct => 1,
            TType::I16 => 2,
            TType::I32 | TType::Binary => 4,
            TType::List | TType::Set => 5,
            TType::Map => 6,
            TType::Double | TType::I64 => 8,
            TType::Uuid => 16,
        }
    }
}

/// Skips one struct at the start of `buf` (fields up to and including the stop byte); returns
/// the bytes it took.
///
/// # Errors
/// [`Error::Truncated`], [`Error::BadType`], [`Error::NegativeLength`], [`Error::TooDeep`].
pub fn skip_struct(buf: &[u8], limits: &Limits) -> Result<usize, Error> {
    let mut r = Reader::new(buf);
    skip(&mut r, TType::Struct, limits.max_depth)?;
    Ok(r.pos())
}

/// Walks the struct at the start of `buf`, skipping every field, and returns the value of the
/// first field `id` of type binary (if any) and the bytes the struct took. A field `id` of
/// another type counts as absent.
///
/// # Errors
/// As [`skip_struct`]: the whole struct is validated, not only up to the field.
pub fn find_binary_field<'a>(
    buf: &'a [u8],
    id: i16,
    limits: &Limits,
) -> Result<(Option<&'a [u8]>, usize), Error> {
    if limits.max_depth == 0 {
        return Err(Error::TooDeep);
    }
    let mut r = Reader::new(buf);
    let mut found = None;
    loop {
        let ty = r.u8()?;
        if ty == STOP {
            return Ok((found, r.pos()));
        }
        let ty = TType::from_u8(ty)?;
        let field = r.i16()?;
        if ty == TType::Binary && field == id && found.is_none() {
            let len = r.len()?;
            found = Some(r.bytes(len)?);
        } else {
            skip(&mut r, ty, limits.max_depth - 1)?;
        }
    }
}

/// Skips one value of type `ty`; `depth` is how many more struct/container levels may open.
pub(crate) fn skip(r: &mut Reader<'_>, ty: TType, depth: usize) -> Result<(), Error> {
    match ty {
        TType::Bool | TType::I8 => r.bytes(1).map(drop),
        TType::I16 => r.bytes(2).map(drop),
        TType::I32 => r.bytes(4).map(drop),
        TType::Double | TType::I64 => r.bytes(8).map(drop),
        TType::Uuid => r.bytes(16).map(drop),
        TType::Binary => {
            let len = r.len()?;
            r.bytes(len).map(drop)
        }
        TType::Struct => {
            let depth = depth.checked_sub(1).ok_or(Error::TooDeep)?;
            loop {
                let t = r.u8()?;
                if t == STOP {
                    return Ok(());
                }
                let t = TType::from_u8(t)?;
                r.i16()?;
                skip(r, t, depth)?;
            }
        }
        TType::List | TType::Set => {
            let depth = depth.checked_sub(1).ok_or(Error::TooDeep)?;
            let elem = TType::from_u8(r.u8()?)?;
            let size = r.len()?;
            fits(r, size, elem.min_len())?;
            for _ in 0..size {
                skip(r, elem, depth)?;
            }
            Ok(())
        }
        TType::Map => {
            let depth = depth.checked_sub(1).ok_or(Error::TooDeep)?;
            let key = TType::from_u8(r.u8()?)?;
            let value = TType::from_u8(r.u8()?)?;
            let size = r.len()?;
            fits(r, size, key.min_len() + value.min_len())?;
            for _ in 0..size {
                skip(r, key, depth)?;
                skip(r, value, depth)?;
            }
            Ok(())
        }
    }
}

/// A container of `size` elements of at least `each` bytes must fit in what is left.
fn fits(r: &Reader<'_>, size: usize, each: usize) -> Result<(), Error> {
    match size.checked_mul(each) {
        Some(n) if n <= r.remaining() => Ok(()),
        _ => Err(Error::Truncated),
    }
}

/// Appends a struct holding one binary field `id` with `value`, then the stop byte.
///
/// # Errors
/// [`Error::TooLargeToEncode`] when `value` is over `i32::MAX` bytes.
pub fn encode_binary_struct(id: i16, value: &[u8], out: &mut BytesMut) -> Result<(), Error> {
    let len = i32::try_from(value.len()).map_err(|_| Error::TooLargeToEncode)?;
    out.reserve(value.len() + 8);
    out.put_u8(TType::Binary.as_u8());
    out.put_i16(id);
    out.put_i32(len);
    out.put_slice(value);
    out.put_u8(STOP);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip_all(buf: &[u8]) -> Result<usize, Error> {
        skip_struct(buf, &Limits::default())
    }

    /// One field of every type, in a struct, by hand from the spec's layouts.
    fn every_type() -> Vec<u8> {
        let mut v = vec![];
        v.extend([2, 0, 1, 1]); // bool true
        v.extend([3, 0, 2, 0xff]); // i8 -1
        v.extend([4, 0, 3, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]); // double 1.0
        v.extend([6, 0, 4, 0x12, 0x34]); // i16
        v.extend([8, 0, 5, 0, 0, 0, 9]); // i32
        v.extend([10, 0, 6, 0, 0, 0, 0, 0, 0, 0, 1]); // i64
        v.extend([11, 0, 7, 0, 0, 0, 2, b'h', b'i']); // string
        v.extend([12, 0, 8, 8, 0, 1, 0, 0, 0, 1, 0]); // struct { 1: i32 1 }
        v.extend([13, 0, 9, 11, 6, 0, 0, 0, 1, 0, 0, 0, 1, b'k', 0, 7]); // map<string,i16>
        v.extend([14, 0, 10, 3, 0, 0, 0, 2, 1, 2]); // set<i8>
        v.extend([15, 0, 11, 15, 0, 0, 0, 1, 8, 0, 0, 0, 0]); // list<list<i32>> [[]]
        v.extend([16, 0, 12]); // uuid
        v.extend([0xab; 16]);
        v.push(0); // stop
        v
    }

    #[test]
    fn skips_every_type() {
        let v = every_type();
        assert_eq!(skip_all(&v), Ok(v.len()));
        let mut more = v.clone();
        more.extend([1, 2, 3]);
        assert_eq!(skip_all(&more), Ok(v.len()), "stops at the stop byte");
        for end in 0..v.len() {
            assert_eq!(skip_all(&v[..end]), Err(Error::Truncated), "prefix {end}");
        }
    }

    #[test]
    fn finds_a_binary_field_among_others() {
        let v = every_type();
        assert_eq!(
            find_binary_field(&v, 7, &Limits::default()),
            Ok((Some(&b"hi"[..]), v.len()))
        );
        // Field 5 is an i32, not binary: absent.
        assert_eq!(
            find_binary_field(&v, 5, &Limits::default()),
            Ok((None, v.len()))
        );
        let mut out = BytesMut::new();
        encode_binary_struct(0, b"abc", &mut out).unwrap();
        assert_eq!(&out[..], &[11, 0, 0, 0, 0, 0, 3, b'a', b'b', b'c', 0]);
        assert_eq!(
            find_binary_field(&out, 0, &Limits::default()),
            Ok((Some(&b"abc"[..]), out.len()))
        );
    }

    #[test]
    fn bad_types_and_lengths() {
        assert_eq!(skip_all(&[1, 0, 1, 0]), Err(Error::BadType(1))); // VOID
        assert_eq!(skip_all(&[5, 0, 1, 0]), Err(Error::BadType(5)));
        assert_eq!(skip_all(&[0x80, 0, 1, 0]), Err(Error::BadType(0x80)));
        assert_eq!(
            skip_all(&[11, 0, 1, 0xff, 0xff, 0xff, 0xfe, 0]),
            Err(Error::NegativeLength(-2))
        );
        assert_eq!(
            skip_all(&[15, 0, 1, 3, 0x80, 0, 0, 0, 0]),
            Err(Error::NegativeLength(i32::MIN))
        );
        // A huge list of stops is rejected as a type, a huge list of i64s as not fitting,
        // before any element is read.
        assert_eq!(
            skip_all(&[15, 0, 1, 0, 0x7f, 0xff, 0xff, 0xff]),
            Err(Error::BadType(0))
        );
        assert_eq!(
            skip_all(&[15, 0, 1, 10, 0x7f, 0xff, 0xff, 0xff, 0]),
            Err(Error::Truncated)
        );
        assert_eq!(
            skip_all(&[13, 0, 1, 16, 16, 0x7f, 0xff, 0xff, 0xff, 0]),
            Err(Error::Truncated)
        );
        // A map with a bad value type fails even when empty.
        assert_eq!(
            skip_all(&[13, 0, 1, 8, 0, 0, 0, 0, 0, 0]),
            Err(Error::BadType(0))
        );
    }

    #[test]
    fn depth_is_bounded() {
        let nest = |n: usize| {
            let mut v = Vec::new();
            for _ in 0..n {
                v.extend([12, 0, 1]);
            }
            v.extend(std::iter::repeat_n(0, n + 1));
            v
        };
        let limits = Limits {
            max_depth: 4,
            ..Limits::default()
        };
        // The outer struct plus 3 nested: 4 levels.
        assert_eq!(skip_struct(&nest(3), &limits), Ok(3 * 3 + 4));
        assert_eq!(skip_struct(&nest(4), &limits), Err(Error::TooDeep));
        // Lists count as levels too.
        // Struct, then four lists: five levels.
        let lists = [
            15, 0, 1, 15, 0, 0, 0, 1, 15, 0, 0, 0, 1, 15, 0, 0, 0, 1, 15, 0, 0, 0, 0, 0,
        ];
        assert_eq!(skip_struct(&lists, &limits), Err(Error::TooDeep));
        assert_eq!(skip_struct(&lists, &Limits::default()), Ok(lists.len()));
        // Deep input with the default limit: an error, not a stack overflow.
        assert_eq!(skip_all(&nest(100_000)), Err(Error::TooDeep));
    }
}
