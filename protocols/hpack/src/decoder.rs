//! Header block decoding (RFC 7541 sections 3, 4 and 6).

use bytes::Bytes;

use crate::error::{Error, ErrorKind};
use crate::huffman::{self, HuffmanError};
use crate::integer::{self, IntegerError};
use crate::table::{DYNAMIC_BASE, DynamicTable, ENTRY_OVERHEAD, Entry, STATIC};
use crate::{DEFAULT_MAX_HEADER_LIST_SIZE, DEFAULT_TABLE_SIZE, Field};

/// Decodes the header blocks of one direction of one HTTP/2 connection.
///
/// Blocks must be decoded in the order they arrive on the connection (each one a complete
/// `HEADERS` + `CONTINUATION` sequence), because each one may change the dynamic table the next
/// one refers to. After any error that [`Error::is_compression_error`], the table may disagree
/// with the peer's: the decoder refuses every later block with [`ErrorKind::Poisoned`] and the
/// connection must be closed with `COMPRESSION_ERROR`.
#[derive(Debug, Clone)]
pub struct Decoder {
    table: DynamicTable,
    /// Our `SETTINGS_HEADER_TABLE_SIZE`: the most a size update may ask for.
    max_table_size: usize,
    /// The smallest limit set since the last block, when it is below the table's capacity: the
    /// next block must start with a size update no larger.
    required_update: Option<usize>,
    max_header_list_size: usize,
    poisoned: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new(DEFAULT_TABLE_SIZE)
    }
}

/// A string literal: kept, or skipped (validated but not stored) because it exceeded what the
/// caller may keep.
enum Str {
    Kept(Bytes),
    Skipped(usize),
}

impl Str {
    fn len(&self) -> usize {
        match self {
            Str::Kept(b) => b.len(),
            Str::Skipped(n) => *n,
        }
    }
}

impl Decoder {
    /// A decoder whose dynamic table starts at (and is limited to) `max_table_size` bytes. On an
    /// HTTP/2 connection that is the protocol's initial 4096 ([`DEFAULT_TABLE_SIZE`], what
    /// `Decoder::default` uses); when the peer acknowledges a different
    /// `SETTINGS_HEADER_TABLE_SIZE` of ours, call [`Decoder::set_max_table_size`]. The header
    /// list limit starts at [`DEFAULT_MAX_HEADER_LIST_SIZE`].
    pub fn new(max_table_size: usize) -> Self {
        Self {
            table: DynamicTable::new(max_table_size),
            max_table_size,
            required_update: None,
            max_header_list_size: DEFAULT_MAX_HEADER_LIST_SIZE,
            poisoned: false,
        }
    }

    /// Sets the largest header list a block may decode to (name + value + 32 per field, RFC 9113
    /// section 6.5.2): this side's `SETTINGS_MAX_HEADER_LIST_SIZE`.
    pub fn set_max_header_list_size(&mut self, max: usize) {
        self.max_header_list_size = max;
    }

    /// Sets the table size limit, once the peer has acknowledged a new
    /// `SETTINGS_HEADER_TABLE_SIZE`. A limit below the table's current maximum requires the peer
    /// to start its next block with a size update within it (RFC 7541 section 4.2).
    pub fn set_max_table_size(&mut self, max: usize) {
        self.max_table_size = max;
        if max < self.table.capacity() {
            self.required_update = Some(self.required_update.map_or(max, |r| r.min(max)));
        }
    }

    /// The dynamic table's current size in bytes (entries' name + value + 32).
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    /// The dynamic table's current maximum size, as last set by the peer's size updates.
    pub fn table_capacity(&self) -> usize {
        self.table.capacity()
    }

    /// The dynamic table's entries, newest (index 62) first, as `(name, value)`.
    pub fn table_entries(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.table.iter().map(|e| (&e.name[..], &e.value[..]))
    }

    /// Decodes one complete header block, handing each field to `emit` in order.
    ///
    /// String literals are copied out of `block`; [`Decoder::decode_bytes`] shares them instead.
    ///
    /// # Errors
    ///
    /// See [`ErrorKind`]. On error, fields already emitted belong to a refused block: discard
    /// them. After a compression error the decoder refuses every later block.
    pub fn decode(&mut self, block: &[u8], emit: impl FnMut(Field)) -> Result<(), Error> {
        self.decode_inner(block, None, emit)
    }

    /// Like [`Decoder::decode`], but literal strings sent without Huffman coding are slices of
    /// `block` (no copy).
    ///
    /// # Errors
    ///
    /// As [`Decoder::decode`].
    pub fn decode_bytes(&mut self, block: &Bytes, emit: impl FnMut(Field)) -> Result<(), Error> {
        self.decode_inner(block, Some(block), emit)
    }

    /// Decodes one complete header block into a vector.
    ///
    /// # Errors
    ///
    /// As [`Decoder::decode`].
    pub fn decode_to_vec(&mut self, block: &[u8]) -> Result<Vec<Field>, Error> {
        let mut fields = Vec::new();
        self.decode(block, |f| fields.push(f))?;
        Ok(fields)
    }

    fn decode_inner(
        &mut self,
        block: &[u8],
        owner: Option<&Bytes>,
        mut emit: impl FnMut(Field),
    ) -> Result<(), Error> {
        if self.poisoned {
            return Err(Error::new(ErrorKind::Poisoned, 0));
        }
        let result = self.decode_fields(block, owner, &mut emit);
        if let Err(e) = &result
            && e.is_compression_error()
        {
            self.poisoned = true;
        }
        result
    }

    fn decode_fields(
        &mut self,
        block: &[u8],
        owner: Option<&Bytes>,
        emit: &mut impl FnMut(Field),
    ) -> Result<(), Error> {
        let mut pos = 0;
        let mut fields_seen = false;
        let mut list_size = 0usize;
        let mut over_limit_at: Option<usize> = None;
        while pos < block.len() {
            let start = pos;
            let first = block[pos];
            if first & 0xe0 == 0x20 {
                // 001xxxxx: dynamic table size update (section 6.3).
                if fields_seen {
                    return Err(Error::new(ErrorKind::SizeUpdateNotAtStart, start));
                }
                let size = int(block, &mut pos, 5, start)? as usize;
                if size > self.max_table_size {
                    return Err(Error::new(ErrorKind::SizeUpdateTooLarge, start));
                }
                if self
                    .required_update
                    .is_some_and(|required| size <= required)
                {
                    self.required_update = None;
                }
                self.table.set_capacity(size);
                continue;
            }
            if !fields_seen {
                fields_seen = true;
                self.check_required_update(start)?;
            }
            let list_budget = if over_limit_at.is_some() {
                0
            } else {
                (self.max_header_list_size - list_size).saturating_sub(ENTRY_OVERHEAD)
            };
            let field = if first & 0x80 != 0 {
                // 1xxxxxxx: indexed field (section 6.1).
                let index = int(block, &mut pos, 7, start)? as usize;
                let (name, value) = self.lookup(index, start)?;
                Some(Field {
                    name,
                    value,
                    never_indexed: false,
                })
            } else {
                // 01xxxxxx with indexing, 0000xxxx without, 0001xxxx never indexed (6.2).
                let incremental = first & 0x40 != 0;
                let never_indexed = !incremental && first & 0x10 != 0;
                let prefix = if incremental { 6 } else { 4 };
                let index = int(block, &mut pos, prefix, start)? as usize;
                // A field being added to the table is decoded up to the table's size even past
                // the list limit, so the table stays in step with the peer's.
                let keep = if incremental {
                    list_budget.max(self.table.capacity())
                } else {
                    list_budget
                };
                let name = if index == 0 {
                    read_string(block, &mut pos, owner, keep)?
                } else {
                    Str::Kept(self.lookup(index, start)?.0)
                };
                let value = read_string(block, &mut pos, owner, keep.saturating_sub(name.len()))?;
                match (name, value) {
                    (Str::Kept(name), Str::Kept(value)) => {
                        if incremental {
                            self.table.insert(Entry {
                                name: name.clone(),
                                value: value.clone(),
                            });
                        }
                        Some(Field {
                            name,
                            value,
                            never_indexed,
                        })
                    }
                    _ => {
                        if incremental {
                            // Larger than the table: adding it empties the table (4.4).
                            self.table.clear();
                        }
                        over_limit_at.get_or_insert(start);
                        None
                    }
                }
            };
            let Some(field) = field else { continue };
            if over_limit_at.is_some() {
                continue;
            }
            let size = field.name.len() + field.value.len() + ENTRY_OVERHEAD;
            if size > self.max_header_list_size - list_size {
                over_limit_at = Some(start);
                continue;
            }
            list_size += size;
            emit(field);
        }
        if !fields_seen {
            self.check_required_update(block.len())?;
        }
        match over_limit_at {
            Some(at) => Err(Error::new(ErrorKind::HeaderListTooLarge, at)),
            None => Ok(()),
        }
    }

    fn check_required_update(&self, at: usize) -> Result<(), Error> {
        match self.required_update {
            Some(_) => Err(Error::new(ErrorKind::SizeUpdateMissing, at)),
            None => Ok(()),
        }
    }

    /// The name and value at `index` (1-based, static then dynamic).
    fn lookup(&self, index: usize, at: usize) -> Result<(Bytes, Bytes), Error> {
        if index == 0 {
            return Err(Error::new(ErrorKind::ZeroIndex, at));
        }
        if let Some(&(name, value)) = STATIC.get(index - 1) {
            return Ok((
                Bytes::from_static(name.as_bytes()),
                Bytes::from_static(value.as_bytes()),
            ));
        }
        match self.table.get(index - DYNAMIC_BASE) {
            Some(e) => Ok((e.name.clone(), e.value.clone())),
            None => Err(Error::new(ErrorKind::IndexOutOfRange, at)),
        }
    }
}

fn int(block: &[u8], pos: &mut usize, prefix: u8, at: usize) -> Result<u32, Error> {
    integer::decode(block, pos, prefix).map_err(|e| {
        let kind = match e {
            IntegerError::Truncated => ErrorKind::TruncatedInteger,
            IntegerError::Overflow => ErrorKind::IntegerOverflow,
        };
        Error::new(kind, at)
    })
}

/// Reads a string literal (section 5.2). Strings longer than `keep` once decoded are validated and
/// skipped, never allocated.
fn read_string(
    block: &[u8],
    pos: &mut usize,
    owner: Option<&Bytes>,
    keep: usize,
) -> Result<Str, Error> {
    let start = *pos;
    let huffman = block.get(start).is_some_and(|b| b & 0x80 != 0);
    let len = int(block, pos, 7, start)? as usize;
    if len > block.len() - *pos {
        return Err(Error::new(ErrorKind::TruncatedString, start));
    }
    let raw = &block[*pos..*pos + len];
    *pos += len;
    if !huffman {
        if len > keep {
            return Ok(Str::Skipped(len));
        }
        return Ok(Str::Kept(match owner {
            Some(bytes) => bytes.slice_ref(raw),
            None => Bytes::copy_from_slice(raw),
        }));
    }
    let huffman_err = |e: HuffmanError| {
        let kind = match e {
            HuffmanError::Eos => ErrorKind::HuffmanEos,
            HuffmanError::Padding | HuffmanError::TooLong => ErrorKind::HuffmanPadding,
        };
        Error::new(kind, start)
    };
    // At least 5 bits per symbol: the decoded length is at most len * 8 / 5.
    let mut out = Vec::with_capacity((len * 8 / 5).min(keep));
    match huffman::decode(raw, Some(&mut out), keep) {
        Ok(_) => Ok(Str::Kept(Bytes::from(out))),
        Err(HuffmanError::TooLong) => {
            let n = huffman::decode(raw, None, usize::MAX).map_err(huffman_err)?;
            Ok(Str::Skipped(n))
        }
        Err(e) => Err(huffman_err(e)),
    }
}
