//! Pre-validation of a request's shape before the protocol crate decodes it.
//!
//! kafka-protocol 0.18.0 calls `Vec::with_capacity(n)` with an array count read from the wire
//! before checking that the elements are there, so a 40-byte request claiming 0x7fffffff
//! elements makes the allocator fail and aborts the whole process (no panic to catch). This
//! module walks the frame (request header, then body) against a compact schema of each request
//! type and version, without allocating, and rejects it unless every array, string and bytes
//! length fits in the bytes actually present. An array count must be at most the remaining bytes
//! divided by the smallest encoding of one element, and then every element must parse. When the
//! walk succeeds, every allocation the decoder makes is bounded by a constant factor of the frame
//! size.
//!
//! The walk is sans-io and pure: it reads a byte slice and returns a verdict. The schemas live in
//! [`schemas`]; adding an API means adding its schema there and to `schemas::ALL_REQUESTS`.

mod schemas;

use common::record::varint::{read_unsigned, VarintError, MAX_VARINT_BYTES};
use kafka_protocol::messages::ApiKey;
use thiserror::Error;

/// An inclusive range of versions; `min > max` is the empty range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    pub min: i16,
    pub max: i16,
}

impl Versions {
    pub const fn contains(self, version: i16) -> bool {
        self.min <= version && version <= self.max
    }
}

/// Every version.
pub const ALL: Versions = Versions {
    min: 0,
    max: i16::MAX,
};
/// No version.
pub const NONE: Versions = Versions { min: 1, max: 0 };

/// Versions `min` to `max`, both included.
pub const fn v(min: i16, max: i16) -> Versions {
    Versions { min, max }
}

/// Versions `min` and later.
pub const fn from(min: i16) -> Versions {
    Versions { min, max: i16::MAX }
}

/// Versions up to `max`, included.
pub const fn upto(max: i16) -> Versions {
    Versions { min: 0, max }
}

/// The wire type of a field, as in Kafka's message JSON.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Int8,
    Int16,
    Int32,
    Int64,
    Uint16,
    Uint32,
    Float64,
    Bool,
    Uuid,
    /// int16 length (varint length + 1 in flexible versions), then UTF-8.
    String,
    /// int32 length (varint length + 1 in flexible versions), then the bytes.
    Bytes,
    /// A record set: encoded as bytes; its inner batches are checked by the handlers.
    Records,
    /// int32 count (varint count + 1 in flexible versions), then the elements.
    Array(&'static Ty),
    /// The fields in order, then (in flexible versions) a tagged-fields section.
    Struct(&'static [Field]),
}

/// A tagged field's tag and the versions in which it may appear.
#[derive(Debug, Clone, Copy)]
pub struct Tag {
    pub tag: u32,
    pub versions: Versions,
}

/// One field of a message or struct.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub versions: Versions,
    pub ty: Ty,
    /// Versions in which a string, bytes or array field may be null.
    pub nullable: Versions,
    /// Set for a field that travels in the tagged-fields section instead of in line.
    pub tag: Option<Tag>,
}

impl Field {
    pub const fn new(name: &'static str, versions: Versions, ty: Ty) -> Field {
        Field {
            name,
            versions,
            ty,
            nullable: NONE,
            tag: None,
        }
    }

    pub const fn nullable(mut self, versions: Versions) -> Field {
        self.nullable = versions;
        self
    }

    pub const fn tagged(mut self, tag: u32, versions: Versions) -> Field {
        self.tag = Some(Tag { tag, versions });
        self
    }
}

/// The schema of one request type, for the versions this broker checks.
#[derive(Debug)]
pub struct Message {
    pub key: ApiKey,
    /// Versions the schema has been checked for against the protocol crate.
    pub versions: Versions,
    /// Versions using compact lengths and tagged-fields sections.
    pub flexible: Versions,
    pub fields: &'static [Field],
}

/// Why a request was refused; `field` names the schema field being read.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ShapeError {
    #[error("no request schema for {0:?}")]
    UnknownApi(ApiKey),
    #[error("{key:?} v{version} has no checked schema")]
    UnsupportedVersion { key: ApiKey, version: i16 },
    #[error("header names api key {api_key} v{api_version}, not {key:?} v{version}")]
    HeaderMismatch {
        key: ApiKey,
        version: i16,
        api_key: i16,
        api_version: i16,
    },
    #[error("{field}: needs {needed} bytes at offset {offset}, only {remaining} left")]
    Truncated {
        field: &'static str,
        offset: usize,
        needed: u64,
        remaining: usize,
    },
    #[error(
        "{field}: {count} elements of at least {min_size} bytes cannot fit in {remaining} bytes"
    )]
    CountTooLarge {
        field: &'static str,
        count: u64,
        min_size: usize,
        remaining: usize,
    },
    #[error("{field}: invalid length {length}")]
    NegativeLength { field: &'static str, length: i32 },
    #[error("{field}: null is not allowed in this version")]
    UnexpectedNull { field: &'static str },
    #[error("{field}: unsigned varint at offset {offset} is longer than 5 bytes or exceeds u32")]
    BadVarint { field: &'static str, offset: usize },
    #[error("tagged field {tag} ({field}) is not valid in this version")]
    TagNotInVersion { field: &'static str, tag: u32 },
    #[error("tagged field {tag} ({field}) declares {declared} bytes but its value has {actual}")]
    TagSizeMismatch {
        field: &'static str,
        tag: u32,
        declared: u32,
        actual: usize,
    },
}

/// The schema of `key`'s requests, if one is defined.
pub fn request_schema(key: ApiKey) -> Option<&'static Message> {
    schemas::ALL_REQUESTS.iter().copied().find(|m| m.key == key)
}

/// Checks that `frame` (a request after its 4-byte size prefix: the header, then the body) is a
/// well-shaped `key` v`version` request. Returns how many bytes the header and body occupy;
/// trailing bytes beyond that are not looked at (the decoder ignores them too).
pub fn check_request(key: ApiKey, version: i16, frame: &[u8]) -> Result<usize, ShapeError> {
    let message = request_schema(key).ok_or(ShapeError::UnknownApi(key))?;
    if !message.versions.contains(version) {
        return Err(ShapeError::UnsupportedVersion { key, version });
    }
    let mut cursor = Cursor { buf: frame, pos: 0 };
    let (api_key, api_version) = walk_header(
        &mut cursor,
        crate::net::legacy::request_header_version(key, version),
    )?;
    if api_key != key as i16 || api_version != version {
        return Err(ShapeError::HeaderMismatch {
            key,
            version,
            api_key,
            api_version,
        });
    }
    let walk = Walk {
        version,
        flexible: message.flexible.contains(version),
    };
    walk.fields(&mut cursor, message.fields)?;
    Ok(cursor.pos)
}

/// Header v0: api_key, api_version, correlation_id. v1 adds client_id, a nullable string whose
/// length is an int16 in every version (old brokers must read any ApiVersions header). v2 adds a
/// tagged-fields section.
fn walk_header(cursor: &mut Cursor<'_>, header_version: i16) -> Result<(i16, i16), ShapeError> {
    let api_key = i16::from_be_bytes(cursor.array("api_key")?);
    let api_version = i16::from_be_bytes(cursor.array("api_version")?);
    cursor.take(4, "correlation_id")?;
    let walk = Walk {
        version: header_version,
        flexible: false,
    };
    if header_version >= 1 {
        walk.value(cursor, &CLIENT_ID, &Ty::String, true)?;
    }
    if header_version >= 2 {
        walk.tagged_fields(cursor, &[])?;
    }
    Ok((api_key, api_version))
}

const CLIENT_ID: Field = Field::new("client_id", from(1), Ty::String).nullable(from(1));

/// A read position in the frame; every read is bounds-checked and nothing is copied.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: u64, field: &'static str) -> Result<&'a [u8], ShapeError> {
        let remaining = self.remaining();
        let truncated = || ShapeError::Truncated {
            field,
            offset: self.pos,
            needed: n,
            remaining,
        };
        let n = usize::try_from(n).map_err(|_| truncated())?;
        if n > remaining {
            return Err(truncated());
        }
        let bytes = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], ShapeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N as u64, field)?);
        Ok(out)
    }

    /// Kafka's unsigned varint (`common::record::varint::read_unsigned`): at most 5 bytes,
    /// value within u32. The crate's decoder silently drops overflowing bits; refusing them
    /// keeps this walk and the decoder in step.
    fn varint(&mut self, field: &'static str) -> Result<u32, ShapeError> {
        let offset = self.pos;
        let mut at = self.pos;
        match read_unsigned(self.buf, &mut at, MAX_VARINT_BYTES) {
            Ok(value) => {
                self.pos = at;
                u32::try_from(value).map_err(|_| ShapeError::BadVarint { field, offset })
            }
            Err(VarintError::Truncated) => {
                self.pos = at;
                Err(ShapeError::Truncated {
                    field,
                    offset: at,
                    needed: 1,
                    remaining: 0,
                })
            }
            Err(VarintError::TooLong) => Err(ShapeError::BadVarint { field, offset }),
        }
    }
}

/// The version being walked and whether it uses the flexible (compact) encoding.
#[derive(Clone, Copy)]
struct Walk {
    version: i16,
    flexible: bool,
}

impl Walk {
    /// The in-line fields present in this version, then the tagged-fields section.
    fn fields(self, cursor: &mut Cursor<'_>, fields: &'static [Field]) -> Result<(), ShapeError> {
        for field in fields {
            if field.tag.is_none() && field.versions.contains(self.version) {
                let nullable = field.nullable.contains(self.version);
                self.value(cursor, field, &field.ty, nullable)?;
            }
        }
        if self.flexible {
            self.tagged_fields(cursor, fields)?;
        }
        Ok(())
    }

    fn value(
        self,
        cursor: &mut Cursor<'_>,
        field: &Field,
        ty: &Ty,
        nullable: bool,
    ) -> Result<(), ShapeError> {
        let name = field.name;
        match ty {
            Ty::Int8 | Ty::Bool => cursor.take(1, name).map(drop),
            Ty::Int16 | Ty::Uint16 => cursor.take(2, name).map(drop),
            Ty::Int32 | Ty::Uint32 => cursor.take(4, name).map(drop),
            Ty::Int64 | Ty::Float64 => cursor.take(8, name).map(drop),
            Ty::Uuid => cursor.take(16, name).map(drop),
            Ty::String | Ty::Bytes | Ty::Records => {
                let wide = !matches!(ty, Ty::String);
                // The client_id keeps its int16 length in flexible headers; headers are walked
                // with `flexible: false`, so nothing special is needed here.
                if let Some(len) = self.length(cursor, name, wide, nullable)? {
                    cursor.take(len, name)?;
                }
                Ok(())
            }
            Ty::Array(element) => {
                let Some(count) = self.length(cursor, name, true, nullable)? else {
                    return Ok(());
                };
                // Zero-sized elements would let a tiny frame ask for a huge Vec: count them as
                // one byte each.
                let min_size = self.min_size(element).max(1);
                let remaining = cursor.remaining();
                if count > (remaining / min_size) as u64 {
                    return Err(ShapeError::CountTooLarge {
                        field: name,
                        count,
                        min_size,
                        remaining,
                    });
                }
                for _ in 0..count {
                    self.value(cursor, field, element, false)?;
                }
                Ok(())
            }
            Ty::Struct(fields) => self.fields(cursor, fields),
        }
    }

    /// Reads a string/bytes/array length; `None` is null. `wide` selects an int32 length over
    /// an int16 one in non-flexible versions.
    fn length(
        self,
        cursor: &mut Cursor<'_>,
        field: &'static str,
        wide: bool,
        nullable: bool,
    ) -> Result<Option<u64>, ShapeError> {
        let length: i64 = if self.flexible {
            i64::from(cursor.varint(field)?) - 1
        } else if wide {
            i64::from(i32::from_be_bytes(cursor.array(field)?))
        } else {
            i64::from(i16::from_be_bytes(cursor.array(field)?))
        };
        match length {
            -1 if nullable => Ok(None),
            -1 => Err(ShapeError::UnexpectedNull { field }),
            n if n < -1 => Err(ShapeError::NegativeLength {
                field,
                length: n as i32,
            }),
            n => Ok(Some(n as u64)),
        }
    }

    /// The fewest bytes one value of `ty` can occupy in this version.
    fn min_size(self, ty: &Ty) -> usize {
        // A length or count is one varint byte at least in flexible versions.
        let length = |fixed: usize| if self.flexible { 1 } else { fixed };
        match ty {
            Ty::Int8 | Ty::Bool => 1,
            Ty::Int16 | Ty::Uint16 => 2,
            Ty::Int32 | Ty::Uint32 => 4,
            Ty::Int64 | Ty::Float64 => 8,
            Ty::Uuid => 16,
            Ty::String => length(2),
            Ty::Bytes | Ty::Records | Ty::Array(_) => length(4),
            Ty::Struct(fields) => {
                let inline: usize = fields
                    .iter()
                    .filter(|f| f.tag.is_none() && f.versions.contains(self.version))
                    .map(|f| self.min_size(&f.ty))
                    .sum();
                inline + usize::from(self.flexible)
            }
        }
    }

    /// A tagged-fields section: a count, then (tag, size, value) triples. Known tags are walked
    /// with their schema, as the decoder reads them from the stream whatever the declared size;
    /// unknown ones are skipped by size, as the decoder keeps them as raw bytes.
    fn tagged_fields(
        self,
        cursor: &mut Cursor<'_>,
        fields: &'static [Field],
    ) -> Result<(), ShapeError> {
        let count = cursor.varint("tagged fields")?;
        // Each entry takes at least two bytes (tag and size), so this loop ends within the frame.
        for _ in 0..count {
            let tag = cursor.varint("tag")?;
            let size = cursor.varint("tagged field size")?;
            let known = fields.iter().find(|f| f.tag.is_some_and(|t| t.tag == tag));
            match known {
                Some(field) => {
                    let in_version = field.tag.is_some_and(|t| t.versions.contains(self.version));
                    if !in_version {
                        return Err(ShapeError::TagNotInVersion {
                            field: field.name,
                            tag,
                        });
                    }
                    let start = cursor.pos;
                    let nullable = field.nullable.contains(self.version);
                    self.value(cursor, field, &field.ty, nullable)?;
                    let actual = cursor.pos - start;
                    if actual as u64 != u64::from(size) {
                        return Err(ShapeError::TagSizeMismatch {
                            field: field.name,
                            tag,
                            declared: size,
                            actual,
                        });
                    }
                }
                None => {
                    cursor.take(u64::from(size), "unknown tagged field")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
