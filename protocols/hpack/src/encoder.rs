//! Header block encoding (RFC 7541 sections 4, 6 and 7).

use bytes::{BufMut, Bytes};

use crate::table::{DYNAMIC_BASE, DynamicTable, Entry, STATIC, entry_size, static_name};
use crate::{DEFAULT_TABLE_SIZE, Field, huffman, integer};

/// How one field may be represented, as the caller asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Indexing {
    /// Let the encoder decide: never indexed for sensitive fields (see [`is_sensitive`]),
    /// without indexing for names the encoder was told are volatile
    /// ([`Encoder::set_volatile`]), otherwise added to the dynamic table when it fits.
    #[default]
    Auto,
    /// Add to the dynamic table (a literal with incremental indexing) unless already there, or
    /// larger than the whole table (adding it would only empty the table: sent without indexing).
    Incremental,
    /// Never add to the dynamic table (a literal without indexing): values that change on every
    /// message and would only evict useful entries. A full match already in a table is still
    /// sent as an index.
    Volatile,
    /// Sensitive: a literal never indexed (section 7.1.3), which intermediaries must forward as
    /// never indexed too. Never sent as an index (not even a full static match), and its value is
    /// never Huffman coded, so its length tells as little as possible.
    Never,
}

/// A field to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// The field name, lowercase as HTTP/2 requires (not checked here).
    pub name: &'a [u8],
    /// The field value.
    pub value: &'a [u8],
    /// How it may be represented.
    pub indexing: Indexing,
}

impl<'a> Header<'a> {
    /// A field the encoder represents as it sees fit ([`Indexing::Auto`]).
    pub fn new(name: &'a [u8], value: &'a [u8]) -> Self {
        Self {
            name,
            value,
            indexing: Indexing::Auto,
        }
    }
}

impl<'a> From<&'a Field> for Header<'a> {
    /// A decoded field, keeping its never-indexed flag: what a proxy forwards.
    fn from(f: &'a Field) -> Self {
        let indexing = if f.never_indexed {
            Indexing::Never
        } else {
            Indexing::Auto
        };
        Self {
            name: &f.name,
            value: &f.value,
            indexing,
        }
    }
}

/// Cookies shorter than this are sent never indexed under [`Indexing::Auto`]: a short secret is
/// open to guessing through the compression ratio (RFC 7541 section 7.1.3).
pub const SHORT_COOKIE: usize = 20;

/// Whether [`Indexing::Auto`] sends this field never indexed: `authorization`,
/// `proxy-authorization`, and `cookie` values shorter than [`SHORT_COOKIE`].
pub fn is_sensitive(name: &[u8], value: &[u8]) -> bool {
    match name {
        b"authorization" | b"proxy-authorization" => true,
        b"cookie" => value.len() < SHORT_COOKIE,
        _ => false,
    }
}

/// Encodes the header blocks of one direction of one HTTP/2 connection.
///
/// Blocks must be sent in the order they were encoded: each may change the dynamic table the
/// next one refers to.
#[derive(Debug, Clone)]
pub struct Encoder {
    table: DynamicTable,
    /// The peer's `SETTINGS_HEADER_TABLE_SIZE`.
    peer_max: usize,
    /// Our own cap on the table (memory), at most `peer_max` in effect.
    cap: usize,
    /// Size updates to send at the start of the next block: the smallest size reached since the
    /// last block, and the final one (section 4.2).
    pending_update: Option<(usize, usize)>,
    huffman: bool,
    volatile: Vec<Bytes>,
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new(DEFAULT_TABLE_SIZE)
    }
}

impl Encoder {
    /// An encoder for a peer whose `SETTINGS_HEADER_TABLE_SIZE` is `peer_max` (4096 unless it says
    /// otherwise), using a table of that size and Huffman coding when it is not longer.
    pub fn new(peer_max: usize) -> Self {
        Self {
            table: DynamicTable::new(peer_max),
            peer_max,
            cap: usize::MAX,
            pending_update: None,
            huffman: true,
            volatile: Vec::new(),
        }
    }

    /// Whether string literals may be Huffman coded (when that is not longer). On by default.
    pub fn set_huffman(&mut self, on: bool) {
        self.huffman = on;
    }

    /// Names whose fields [`Indexing::Auto`] never adds to the dynamic table (for example
    /// request ids, trace headers, `content-length`, `:path` for some services). Lowercase.
    pub fn set_volatile<I, N>(&mut self, names: I)
    where
        I: IntoIterator<Item = N>,
        N: AsRef<[u8]>,
    {
        self.volatile = names
            .into_iter()
            .map(|n| Bytes::copy_from_slice(n.as_ref()))
            .collect();
    }

    /// The peer changed its `SETTINGS_HEADER_TABLE_SIZE`: the next block starts with the size
    /// updates the change requires.
    pub fn set_peer_max_table_size(&mut self, peer_max: usize) {
        self.peer_max = peer_max;
        self.resize();
    }

    /// Caps the table at `cap` bytes (at most the peer's limit is ever used), to bound memory.
    pub fn set_table_size_cap(&mut self, cap: usize) {
        self.cap = cap;
        self.resize();
    }

    /// The dynamic table's current size in bytes.
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    /// The dynamic table's entries, newest first, as `(name, value)`.
    pub fn table_entries(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.table.iter().map(|e| (&e.name[..], &e.value[..]))
    }

    fn resize(&mut self) {
        let size = self.peer_max.min(self.cap);
        if size == self.table.capacity() && self.pending_update.is_none() {
            return;
        }
        self.table.set_capacity(size);
        let smallest = self.pending_update.map_or(size, |(min, _)| min.min(size));
        self.pending_update = Some((smallest, size));
    }

    /// Encodes one header block, appending it to `out`.
    pub fn encode<'a, I>(&mut self, fields: I, out: &mut impl BufMut)
    where
        I: IntoIterator<Item = Header<'a>>,
    {
        if let Some((smallest, size)) = self.pending_update.take() {
            if smallest < size {
                integer::encode(smallest, 5, 0x20, out);
            }
            integer::encode(size, 5, 0x20, out);
        }
        for field in fields {
            self.encode_field(field, out);
        }
    }

    fn encode_field(&mut self, field: Header<'_>, out: &mut impl BufMut) {
        let Header {
            name,
            value,
            indexing,
        } = field;
        let indexing = match indexing {
            Indexing::Auto if is_sensitive(name, value) => Indexing::Never,
            Indexing::Auto if self.volatile.iter().any(|v| v == name) => Indexing::Volatile,
            Indexing::Auto => Indexing::Incremental,
            other => other,
        };
        let statics = static_name(name);
        if indexing != Indexing::Never
            && let Some(index) = self.find_full(statics, name, value)
        {
            integer::encode(index, 7, 0x80, out);
            return;
        }
        let name_index = statics.map(|(first, _)| first).or_else(|| {
            self.table
                .iter()
                .position(|e| e.name == name)
                .map(|i| i + DYNAMIC_BASE)
        });
        let add =
            indexing == Indexing::Incremental && entry_size(name, value) <= self.table.capacity();
        let (prefix, flags) = match indexing {
            _ if add => (6, 0x40),
            Indexing::Never => (4, 0x10),
            _ => (4, 0x00),
        };
        match name_index {
            Some(index) => integer::encode(index, prefix, flags, out),
            None => {
                out.put_u8(flags);
                write_string(name, self.huffman, out);
            }
        }
        // A sensitive value is sent as is: its Huffman length would say something about it.
        write_string(value, self.huffman && indexing != Indexing::Never, out);
        if add {
            self.table.insert(Entry {
                name: Bytes::copy_from_slice(name),
                value: Bytes::copy_from_slice(value),
            });
        }
    }

    /// The index of an entry with this name and value: static first, then dynamic.
    fn find_full(
        &self,
        statics: Option<(usize, usize)>,
        name: &[u8],
        value: &[u8],
    ) -> Option<usize> {
        if let Some((first, count)) = statics {
            for index in first..first + count {
                if STATIC[index - 1].1.as_bytes() == value {
                    return Some(index);
                }
            }
        }
        self.table
            .iter()
            .position(|e| e.name == name && e.value == value)
            .map(|i| i + DYNAMIC_BASE)
    }
}

/// A string literal (section 5.2): Huffman coded when allowed and not longer.
fn write_string(s: &[u8], huffman: bool, out: &mut impl BufMut) {
    if huffman {
        let len = huffman::encoded_len(s);
        if len <= s.len() {
            integer::encode(len, 7, 0x80, out);
            huffman::encode(s, out);
            return;
        }
    }
    integer::encode(s.len(), 7, 0x00, out);
    out.put_slice(s);
}
