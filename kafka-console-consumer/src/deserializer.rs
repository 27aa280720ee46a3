//! The deserializers `DefaultMessageFormatter` applies when `key.deserializer`,
//! `value.deserializer` or `headers.deserializer` names one of Kafka's
//! `org.apache.kafka.common.serialization` classes: the text is the deserialized object's
//! `toString()`, and a refusal is the exception Kafka 3.9's class throws, with its message.

const PACKAGE: &str = "org.apache.kafka.common.serialization.";
const SERIALIZATION_EXCEPTION: &str = "org.apache.kafka.common.errors.SerializationException";

/// One of Kafka's built-in deserializers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deserializer {
    String,
    ByteArray,
    ByteBuffer,
    Bytes,
    Integer,
    Long,
    Short,
    Float,
    Double,
    Boolean,
    Uuid,
    Void,
}

impl Deserializer {
    /// The deserializer a fully qualified class name names, e.g.
    /// `org.apache.kafka.common.serialization.IntegerDeserializer`; `None` for any other class
    /// (Kafka: `ClassNotFoundException`).
    pub fn for_class(name: &str) -> Option<Deserializer> {
        let simple = name.strip_prefix(PACKAGE)?;
        Some(match simple {
            "StringDeserializer" => Deserializer::String,
            "ByteArrayDeserializer" => Deserializer::ByteArray,
            "ByteBufferDeserializer" => Deserializer::ByteBuffer,
            "BytesDeserializer" => Deserializer::Bytes,
            "IntegerDeserializer" => Deserializer::Integer,
            "LongDeserializer" => Deserializer::Long,
            "ShortDeserializer" => Deserializer::Short,
            "FloatDeserializer" => Deserializer::Float,
            "DoubleDeserializer" => Deserializer::Double,
            "BooleanDeserializer" => Deserializer::Boolean,
            "UUIDDeserializer" => Deserializer::Uuid,
            "VoidDeserializer" => Deserializer::Void,
            _ => return None,
        })
    }

    /// `deserialize(topic, headers, data).toString()`, or the text of the exception thrown:
    /// `<class>: <message>`, followed by a `Caused by: ...` line when Kafka wraps a cause.
    pub fn deserialize(self, data: &[u8]) -> Result<String, String> {
        match self {
            Deserializer::String => Ok(String::from_utf8_lossy(data).into_owned()),
            // `byte[].toString()` is the array's identity: `[B@` and a hash that differs per run.
            Deserializer::ByteArray => Ok(format!("[B@{:x}", identity_hash(data))),
            Deserializer::ByteBuffer => Ok(format!(
                "java.nio.HeapByteBuffer[pos=0 lim={0} cap={0}]",
                data.len()
            )),
            Deserializer::Bytes => Ok(bytes_to_string(data)),
            Deserializer::Integer => {
                fixed::<4>(data, "Size of data received by IntegerDeserializer is not 4")
                    .map(|b| i32::from_be_bytes(b).to_string())
            }
            Deserializer::Long => fixed::<8>(data, "Size of data received by LongDeserializer is not 8")
                .map(|b| i64::from_be_bytes(b).to_string()),
            Deserializer::Short => {
                fixed::<2>(data, "Size of data received by ShortDeserializer is not 2")
                    .map(|b| i16::from_be_bytes(b).to_string())
            }
            Deserializer::Float => fixed::<4>(data, "Size of data received by Deserializer is not 4")
                .map(|b| java_compat::text::float_to_string(f32::from_be_bytes(b))),
            Deserializer::Double => fixed::<8>(data, "Size of data received by Deserializer is not 8")
                .map(|b| java_compat::text::double_to_string(f64::from_be_bytes(b))),
            Deserializer::Boolean => match data {
                [1] => Ok("true".to_string()),
                [0] => Ok("false".to_string()),
                [b] => Err(format!(
                    "{SERIALIZATION_EXCEPTION}: Unexpected byte received by BooleanDeserializer: {}",
                    *b as i8
                )),
                _ => Err(format!(
                    "{SERIALIZATION_EXCEPTION}: Size of data received by BooleanDeserializer is not 1"
                )),
            },
            Deserializer::Uuid => {
                let text = String::from_utf8_lossy(data);
                parse_uuid(&text).ok_or_else(|| {
                    format!(
                        "{SERIALIZATION_EXCEPTION}: Error parsing data into UUID\nCaused by: java.lang.IllegalArgumentException: Invalid UUID string: {text}"
                    )
                })
            }
            // The formatter hands it the null literal for a null field, so it always refuses.
            Deserializer::Void => Err(
                "java.lang.IllegalArgumentException: Data should be null for a VoidDeserializer."
                    .to_string(),
            ),
        }
    }
}

fn fixed<const N: usize>(data: &[u8], message: &str) -> Result<[u8; N], String> {
    <[u8; N]>::try_from(data).map_err(|_| format!("{SERIALIZATION_EXCEPTION}: {message}"))
}

fn identity_hash(data: &[u8]) -> u32 {
    // Any stable-looking value will do: Java's identity hash is arbitrary too.
    (data.as_ptr() as usize as u32) | 0x1000_0000
}

/// `Bytes.toString()`: printable ASCII except `\` as is, every other byte as `\xNN`.
fn bytes_to_string(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len());
    for &b in data {
        if (b' '..=b'~').contains(&b) && b != b'\\' {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

/// `UUID.fromString(...).toString()`: five dash-separated hex groups (Java accepts shorter
/// groups and pads them), printed in the canonical lower-case 8-4-4-4-12 form.
fn parse_uuid(text: &str) -> Option<String> {
    if text.len() > 36 {
        return None;
    }
    let parts: Vec<&str> = text.split('-').collect();
    if parts.len() != 5 {
        return None;
    }
    let mut values = [0u64; 5];
    for (v, p) in values.iter_mut().zip(&parts) {
        if p.is_empty() || p.len() > 16 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        *v = u64::from_str_radix(p, 16).ok()?;
    }
    Some(format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        values[0] & 0xffff_ffff,
        values[1] & 0xffff,
        values[2] & 0xffff,
        values[3] & 0xffff,
        values[4] & 0xffff_ffff_ffff
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(class: &str) -> Deserializer {
        Deserializer::for_class(&format!("{PACKAGE}{class}")).unwrap()
    }

    #[test]
    fn kafkas_classes_by_name_and_nothing_else() {
        assert_eq!(d("IntegerDeserializer"), Deserializer::Integer);
        assert_eq!(d("UUIDDeserializer"), Deserializer::Uuid);
        assert_eq!(Deserializer::for_class("IntegerDeserializer"), None);
        assert_eq!(Deserializer::for_class("com.example.Mine"), None);
    }

    #[test]
    fn numbers_are_big_endian_and_sizes_are_checked_with_kafkas_texts() {
        let int = d("IntegerDeserializer");
        assert_eq!(int.deserialize(&[0, 0, 1, 0]).unwrap(), "256");
        assert_eq!(int.deserialize(&[0xff; 4]).unwrap(), "-1");
        assert_eq!(
            int.deserialize(b"abc").unwrap_err(),
            "org.apache.kafka.common.errors.SerializationException: Size of data received by IntegerDeserializer is not 4"
        );
        assert_eq!(
            d("LongDeserializer").deserialize(b"x").unwrap_err(),
            "org.apache.kafka.common.errors.SerializationException: Size of data received by LongDeserializer is not 8"
        );
        assert_eq!(d("ShortDeserializer").deserialize(&[1, 2]).unwrap(), "258");
        assert_eq!(
            d("DoubleDeserializer").deserialize(b"x").unwrap_err(),
            "org.apache.kafka.common.errors.SerializationException: Size of data received by Deserializer is not 8"
        );
        // The null literal "null" is 4 bytes: an IntegerDeserializer reads it as a number.
        assert_eq!(int.deserialize(b"null").unwrap(), "1853189228");
    }

    #[test]
    fn floating_point_is_printed_as_java_prints_it() {
        assert_eq!(
            d("FloatDeserializer")
                .deserialize(&1.5f32.to_be_bytes())
                .unwrap(),
            "1.5"
        );
    }

    #[test]
    fn other_classes_follow_their_to_string() {
        assert_eq!(d("BooleanDeserializer").deserialize(&[1]).unwrap(), "true");
        assert_eq!(
            d("BooleanDeserializer").deserialize(b"x").unwrap_err(),
            "org.apache.kafka.common.errors.SerializationException: Unexpected byte received by BooleanDeserializer: 120"
        );
        assert_eq!(
            d("BytesDeserializer").deserialize(b"a\\b\n").unwrap(),
            "a\\x5Cb\\x0A"
        );
        assert_eq!(
            d("ByteBufferDeserializer").deserialize(b"abc").unwrap(),
            "java.nio.HeapByteBuffer[pos=0 lim=3 cap=3]"
        );
        assert_eq!(
            d("UUIDDeserializer").deserialize(b"1-2-3-4-5").unwrap(),
            "00000001-0002-0003-0004-000000000005"
        );
        assert_eq!(
            d("UUIDDeserializer").deserialize(b"nope").unwrap_err(),
            "org.apache.kafka.common.errors.SerializationException: Error parsing data into UUID\nCaused by: java.lang.IllegalArgumentException: Invalid UUID string: nope"
        );
        assert_eq!(
            d("VoidDeserializer").deserialize(b"null").unwrap_err(),
            "java.lang.IllegalArgumentException: Data should be null for a VoidDeserializer."
        );
        assert!(d("ByteArrayDeserializer")
            .deserialize(b"x")
            .unwrap()
            .starts_with("[B@"));
    }
}
