//! MAC addresses, normalised once at the edge.
//!
//! HSM keys Ethernet interfaces by the lower-case hex MAC without separators, and BSS
//! matches only lower-case colon form; upstream has had bugs from mixing the two. Here a
//! [`Mac`] is six bytes: it parses every common spelling and prints each form on demand.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac([u8; 6]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{input}' is not a valid MAC address: expected six hex bytes such as aa:bb:cc:dd:ee:ff \
     (':' or '-' separators, or 12 hex digits)"
)]
pub struct MacError {
    pub input: String,
}

impl Mac {
    pub fn parse(input: &str) -> Result<Mac, MacError> {
        let err = || MacError {
            input: input.to_string(),
        };
        let s = input.trim();
        let hex: String = match s.len() {
            12 => s.to_string(),
            17 => {
                let sep = s.as_bytes()[2];
                if sep != b':' && sep != b'-' {
                    return Err(err());
                }
                for (i, b) in s.bytes().enumerate() {
                    if i % 3 == 2 && b != sep {
                        return Err(err());
                    }
                }
                s.split(sep as char).collect()
            }
            14 if s.as_bytes()[4] == b'.' && s.as_bytes()[9] == b'.' => s.replace('.', ""),
            _ => return Err(err()),
        };
        if hex.len() != 12 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err());
        }
        let mut bytes = [0u8; 6];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).map_err(|_| err())?;
        }
        Ok(Mac(bytes))
    }

    /// HSM's interface ID: 12 lower-case hex digits.
    pub fn id(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn bytes(&self) -> [u8; 6] {
        self.0
    }

    pub fn from_bytes(bytes: [u8; 6]) -> Mac {
        Mac(bytes)
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl serde::Serialize for Mac {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Mac {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Mac::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling() {
        for s in [
            "9A:99:99:99:99:99",
            "9a-99-99-99-99-99",
            "9a9999999999",
            "9a99.9999.9999",
        ] {
            let m = Mac::parse(s).unwrap();
            assert_eq!(m.to_string(), "9a:99:99:99:99:99");
            assert_eq!(m.id(), "9a9999999999");
        }
    }

    #[test]
    fn refuses_garbage() {
        for s in [
            "",
            "9a:99:99:99:99",
            "9a:99:99:99:99:9g",
            "9a:99-99:99:99:99",
            "zz9999999999",
        ] {
            assert!(Mac::parse(s).is_err(), "{s}");
        }
    }
}
