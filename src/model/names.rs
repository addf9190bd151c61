//! Closed sets of names, spelled as the contracts spell them.
//!
//! BOS phases, statuses, actions and operations, CFS statuses: each is an enum in the
//! domain (so code matches on variants, never compares strings), with the contract's
//! spelling as its one string form. [`named_enum!`] writes the enum, its `as_str`/`parse`,
//! `Display`, and serde as that string, so wire documents and stored rows keep exactly the
//! text they had. Decoding an unknown name fails with a message naming the field and the
//! accepted values, which the API passes on to the client.

/// `named_enum! { /// doc  pub enum Name("field label", "accepted values") { Variant = "text", … } }`
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($field:literal, $accepted:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The contract's spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text ),+
                }
            }

            /// The value spelled `s`, if any (exact match).
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }

            /// Why `s` is not one: "<field> '<s>' is not one of <accepted>".
            pub fn refusal(s: &str) -> String {
                format!("{} '{}' is not one of {}", $field, s, $accepted)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<$name, String> {
                $name::parse(s).ok_or_else(|| $name::refusal(s))
            }
        }

        /// Unit tests compare with and write the contract's spelling (production code
        /// matches on variants).
        #[cfg(test)]
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        #[cfg(test)]
        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                $name::parse(s).unwrap_or_else(|| panic!("{}", $name::refusal(s)))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                $name::parse(&s).ok_or_else(|| serde::de::Error::custom($name::refusal(&s)))
            }
        }
    };
}

pub(crate) use named_enum;

/// A value another party wrote that we keep even when it is not one of ours: a known name,
/// or the text as written (BOS lets clients set `status_override` to any string; an
/// external CFS may report a status this version does not know).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrOther<T> {
    Known(T),
    Other(String),
}

#[cfg(test)]
impl<T: std::str::FromStr> From<&str> for OrOther<T> {
    fn from(s: &str) -> OrOther<T> {
        s.parse()
            .map_or_else(|_| OrOther::Other(s.to_string()), OrOther::Known)
    }
}

impl<T: Copy> OrOther<T> {
    pub fn known(&self) -> Option<T> {
        match self {
            OrOther::Known(t) => Some(*t),
            OrOther::Other(_) => None,
        }
    }
}
