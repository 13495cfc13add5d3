//! The version rules of `disabled_sdk_versions`: an exact version (`0.1.0`) or a range of
//! comparators that must all hold (`>=0.1.0 <0.1.4`, `<0.2`). Parsing is strict: a rule this
//! code cannot read makes the whole document ignored, rather than a guess that could turn off
//! the wrong versions or miss the one meant.

use std::cmp::Ordering;
use std::fmt;

/// The most comparators one rule may hold.
const MAX_COMPARATORS: usize = 4;

/// A version as `major.minor.patch`; missing parts are 0 (`0.2` is `0.2.0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version([u32; 3]);

impl Version {
    /// Reads `1`, `1.2` or `1.2.3` (digits only: no pre-release or build suffix).
    pub fn parse(text: &str) -> Option<Version> {
        let mut parts = [0u32; 3];
        for (index, part) in text.split('.').enumerate() {
            if index == 3 || part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            parts[index] = part.parse().ok()?;
        }
        Some(Version(parts))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [major, minor, patch] = self.0;
        write!(f, "{major}.{minor}.{patch}")
    }
}

/// How a comparator compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// One rule of `disabled_sdk_versions`, as written, with its comparators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRule {
    /// The rule as the document wrote it (for diagnostics and logs).
    pub text: String,
    comparators: Vec<(Op, Version)>,
}

/// What a version rule must look like, for the message of a document that breaks it.
pub const VERSION_RULE: &str = "each entry must be a version (\"0.1.0\") or comparators that \
    must all hold, separated by spaces or commas (\">=0.1.0 <0.1.4\"), with versions of up to \
    three numbers";

impl VersionRule {
    /// Reads a rule; `None` when it does not follow [`VERSION_RULE`].
    pub fn parse(text: &str) -> Option<VersionRule> {
        let mut comparators = Vec::new();
        for token in text.split([',', ' ']).filter(|t| !t.is_empty()) {
            if comparators.len() == MAX_COMPARATORS {
                return None;
            }
            let (op, rest) = split_op(token);
            comparators.push((op, Version::parse(rest)?));
        }
        if comparators.is_empty() {
            return None;
        }
        Some(VersionRule {
            text: text.to_string(),
            comparators,
        })
    }

    /// True when `version` meets every comparator of the rule.
    pub fn matches(&self, version: Version) -> bool {
        self.comparators.iter().all(|(op, bound)| {
            let order = version.cmp(bound);
            match op {
                Op::Equal => order == Ordering::Equal,
                Op::Less => order == Ordering::Less,
                Op::LessOrEqual => order != Ordering::Greater,
                Op::Greater => order == Ordering::Greater,
                Op::GreaterOrEqual => order != Ordering::Less,
            }
        })
    }
}

fn split_op(token: &str) -> (Op, &str) {
    for (prefix, op) in [
        (">=", Op::GreaterOrEqual),
        ("<=", Op::LessOrEqual),
        (">", Op::Greater),
        ("<", Op::Less),
        ("=", Op::Equal),
    ] {
        if let Some(rest) = token.strip_prefix(prefix) {
            return (op, rest);
        }
    }
    (Op::Equal, token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn versions_read_up_to_three_numbers() {
        assert_eq!(v("1"), v("1.0.0"));
        assert_eq!(v("0.2"), v("0.2.0"));
        assert!(v("0.10.0") > v("0.9.9"));
        for bad in [
            "",
            "1.",
            ".1",
            "1.2.3.4",
            "1.2.x",
            "1.2.3-beta",
            "v1",
            "-1",
            "99999999999",
        ] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn rules_match_exact_versions_and_ranges() {
        let cases = [
            ("0.1.0", "0.1.0", true),
            ("0.1.0", "0.1.1", false),
            ("=0.1", "0.1.0", true),
            ("<0.2.0", "0.1.9", true),
            ("<0.2.0", "0.2.0", false),
            ("<=0.2.0", "0.2.0", true),
            (">0.1.0", "0.1.0", false),
            (">=0.1.0 <0.1.4", "0.1.3", true),
            (">=0.1.0 <0.1.4", "0.1.4", false),
            (">=0.1.0,<0.1.4", "0.0.9", false),
        ];
        for (rule, version, expected) in cases {
            let parsed = VersionRule::parse(rule).unwrap();
            assert_eq!(parsed.matches(v(version)), expected, "{rule} {version}");
        }
    }

    #[test]
    fn unreadable_rules_are_refused() {
        for bad in [
            "",
            " , ",
            "~0.1",
            "^1.0",
            "*",
            "<",
            "0.1.0 || 0.2.0",
            "1 2 3 4 5",
            ">= 0.1.0",
        ] {
            assert_eq!(VersionRule::parse(bad), None, "{bad}");
        }
    }
}
