//! Xnames: the physical-location identifiers HSM, BSS and BOS key everything by.
//!
//! An [`Xname`] can only be built by parsing, and parsing normalises (trim, lower-case,
//! no leading zeros in any number) so that two spellings of one location compare equal
//! and are stored once. The grammar is the hms-xname one for the component types a boot
//! appliance meets (cabinets down to nodes and their BMCs); anything else is refused with
//! a message that says what an xname looks like.

use std::fmt;

/// The kind of component an xname names, with its HSM `Type` string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum XnameKind {
    Cabinet,
    Chassis,
    ChassisBmc,
    ComputeModule,
    RouterModule,
    NodeEnclosure,
    NodeBmc,
    RouterBmc,
    Node,
}

impl XnameKind {
    /// The HSM `Type` value for this kind (`Node`, `NodeBMC`, ...).
    pub fn hms_type(self) -> &'static str {
        match self {
            XnameKind::Cabinet => "Cabinet",
            XnameKind::Chassis => "Chassis",
            XnameKind::ChassisBmc => "ChassisBMC",
            XnameKind::ComputeModule => "ComputeModule",
            XnameKind::RouterModule => "RouterModule",
            XnameKind::NodeEnclosure => "NodeEnclosure",
            XnameKind::NodeBmc => "NodeBMC",
            XnameKind::RouterBmc => "RouterBMC",
            XnameKind::Node => "Node",
        }
    }
}

/// A validated, normalised xname such as `x3000c0s17b3n0`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Xname(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{input}' is not a valid xname: expected a location such as x3000 (cabinet), x3000c0 \
     (chassis), x3000c0s17 (slot), x3000c0s17b0 (node BMC) or x3000c0s17b0n0 (node)"
)]
pub struct XnameError {
    pub input: String,
}

impl Xname {
    pub fn parse(input: &str) -> Result<Xname, XnameError> {
        let err = || XnameError {
            input: input.to_string(),
        };
        let s = input.trim().to_ascii_lowercase();
        let mut rest = s.as_str();
        // Tokenise into (letter, number) pairs.
        let mut parts: Vec<(char, u64)> = Vec::new();
        while !rest.is_empty() {
            let letter = rest.chars().next().ok_or_else(err)?;
            if !letter.is_ascii_lowercase() {
                return Err(err());
            }
            rest = &rest[1..];
            let digits = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
            if digits == 0 || digits > 9 {
                return Err(err());
            }
            let n: u64 = rest[..digits].parse().map_err(|_| err())?;
            rest = &rest[digits..];
            parts.push((letter, n));
        }
        let letters: String = parts.iter().map(|(c, _)| *c).collect();
        let ok = match letters.as_str() {
            "x" | "xc" | "xcs" | "xcr" | "xcse" | "xcsb" | "xcrb" | "xcsbn" => true,
            "xcb" => parts[2].1 == 0,
            _ => false,
        };
        // Cabinet numbers have at most 4 digits; chassis numbers are 0-7 (hms-xname).
        if !ok || parts[0].1 > 9999 || parts.get(1).is_some_and(|p| p.1 > 7) {
            return Err(err());
        }
        let normal: String = parts.iter().map(|(c, n)| format!("{c}{n}")).collect();
        Ok(Xname(normal))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> XnameKind {
        let letters: String = self.0.chars().filter(|c| c.is_ascii_lowercase()).collect();
        match letters.as_str() {
            "x" => XnameKind::Cabinet,
            "xc" => XnameKind::Chassis,
            "xcb" => XnameKind::ChassisBmc,
            "xcs" => XnameKind::ComputeModule,
            "xcr" => XnameKind::RouterModule,
            "xcse" => XnameKind::NodeEnclosure,
            "xcsb" => XnameKind::NodeBmc,
            "xcrb" => XnameKind::RouterBmc,
            _ => XnameKind::Node,
        }
    }

    /// The controlling parent: a node's BMC, a BMC's slot, and so on. `None` for a cabinet.
    pub fn parent(&self) -> Option<Xname> {
        let cut = self.0.rfind(|c: char| c.is_ascii_lowercase())?;
        if cut == 0 {
            return None;
        }
        Some(Xname(self.0[..cut].to_string()))
    }
}

impl fmt::Display for Xname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Xname {
    type Err = XnameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Xname::parse(s)
    }
}

impl<'de> serde::Deserialize<'de> for Xname {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Xname::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_whitespace_and_leading_zeros() {
        let x = Xname::parse(" X3000C0S017B03N0 ").unwrap();
        assert_eq!(x.as_str(), "x3000c0s17b3n0");
        assert_eq!(x.kind(), XnameKind::Node);
        assert_eq!(x.kind().hms_type(), "Node");
    }

    #[test]
    fn kinds_and_parents() {
        let node = Xname::parse("x1000c0s0b0n1").unwrap();
        let bmc = node.parent().unwrap();
        assert_eq!(bmc.as_str(), "x1000c0s0b0");
        assert_eq!(bmc.kind(), XnameKind::NodeBmc);
        assert_eq!(bmc.parent().unwrap().kind(), XnameKind::ComputeModule);
        assert_eq!(Xname::parse("x3").unwrap().parent(), None);
        assert_eq!(
            Xname::parse("x1c0b0").unwrap().kind(),
            XnameKind::ChassisBmc
        );
        assert_eq!(
            Xname::parse("x1c0r3b0").unwrap().kind(),
            XnameKind::RouterBmc
        );
    }

    #[test]
    fn refuses_non_xnames() {
        for bad in [
            "",
            "node1",
            "x",
            "x12345",
            "x1c8",
            "x1c0s",
            "x1c0b1",
            "x1c0s0n0",
            "x1c0s0b0n0n1",
            "Default",
            "x-1",
            "x1c0s0b0n0 ",
            "y1",
        ] {
            if bad == "x1c0s0b0n0 " {
                continue; // trailing whitespace is trimmed, not refused
            }
            assert!(Xname::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn error_says_what_an_xname_is() {
        let e = Xname::parse("node1").unwrap_err().to_string();
        assert!(e.contains("'node1' is not a valid xname"), "{e}");
    }
}
