//! Identifier normalisation and SHA-256, per the API's rules (docs/ARCHITECTURE.md §10) and §6.
//!
//! Every user-data field has its own normalisation (email lowercase, phone digits without
//! leading zeros, city without spaces or punctuation, ...) before it is hashed to 64 lowercase
//! hex characters. A value that already is 64 hex characters is taken as pre-hashed (and only
//! lowercased). Advertising IDs are trimmed, validated as UUIDs and lowercased before hashing;
//! the all-zero UUID means "no ID". This runs on the calling thread, so raw values never reach
//! the worker, the disk or a log line.

use sha2::{Digest, Sha256};

/// A user-data field that is hashed, named as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashedField {
    /// Email address.
    Em,
    /// Phone number.
    Ph,
    /// First name.
    Fn,
    /// Last name.
    Ln,
    /// Gender.
    Ge,
    /// Date of birth.
    Db,
    /// City.
    Ct,
    /// State code.
    St,
    /// Zip code.
    Zp,
    /// Country code.
    Country,
    /// Advertiser user id.
    ExternalId,
}

impl HashedField {
    /// The wire name, used in error messages as `user_data.<name>`.
    pub fn wire_name(self) -> &'static str {
        match self {
            HashedField::Em => "em",
            HashedField::Ph => "ph",
            HashedField::Fn => "fn",
            HashedField::Ln => "ln",
            HashedField::Ge => "ge",
            HashedField::Db => "db",
            HashedField::Ct => "ct",
            HashedField::St => "st",
            HashedField::Zp => "zp",
            HashedField::Country => "country",
            HashedField::ExternalId => "external_id",
        }
    }
}

/// SHA-256 of the UTF-8 bytes, as 64 lowercase hex characters.
pub fn sha256_hex(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(value.as_bytes());
    let mut out = String::with_capacity(64);
    for byte in digest.iter() {
        out.push(HEX[(byte >> 4) as usize] as char);
        out.push(HEX[(byte & 0x0f) as usize] as char);
    }
    out
}

/// True for exactly 64 ASCII hex digits (either case).
pub fn is_sha256_hex(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Normalises and hashes one value of `field`; the error is the rule the value broke.
pub fn hash_user_field(field: HashedField, raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    if is_sha256_hex(trimmed) {
        return Ok(trimmed.to_ascii_lowercase());
    }
    let normalised = normalise(field, trimmed)?;
    Ok(sha256_hex(&normalised))
}

fn normalise(field: HashedField, value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    match field {
        HashedField::Em => normalise_email(value),
        HashedField::Ph => normalise_phone(value),
        HashedField::Fn | HashedField::Ln => Ok(value.to_lowercase()),
        HashedField::Ge => normalise_gender(value),
        HashedField::Db => normalise_date_of_birth(value),
        HashedField::Ct => {
            let city: String = value
                .chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect();
            non_empty(city, "must contain letters")
        }
        HashedField::St => two_letter_code(value, "a two-letter state code"),
        HashedField::Country => two_letter_code(value, "a two-letter ISO-3166 country code"),
        HashedField::Zp => normalise_zip(value),
        HashedField::ExternalId => Ok(value.to_string()),
    }
}

fn normalise_email(value: &str) -> Result<String, String> {
    let email = value.to_lowercase();
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if valid {
        Ok(email)
    } else {
        Err("must be an email address (name@domain)".into())
    }
}

fn normalise_phone(value: &str) -> Result<String, String> {
    let all = digits(value);
    let number = all.trim_start_matches('0');
    if (7..=15).contains(&number.len()) {
        Ok(number.to_string())
    } else {
        Err("must hold 7 to 15 digits including the country code".into())
    }
}

/// Digits only, as the API allows (docs/ARCHITECTURE.md §10): spaces and hyphens are formatting (`94103-1234`), but a
/// postcode with letters (`SW1A 1AA`) is refused rather than reduced to its digits (`11`),
/// which would hash to a value that matches nobody.
fn normalise_zip(value: &str) -> Result<String, String> {
    let formatting = |c: char| c.is_ascii_digit() || c == ' ' || c == '-';
    if !value.chars().all(formatting) {
        return Err(
            "must be digits only (spaces and '-' allowed); a postcode with letters cannot be sent"
                .into(),
        );
    }
    non_empty(digits(value), "must contain digits")
}

/// The rule a phone number that was accepted may still break: without a country code it
/// hashes to a value that matches nobody. A leading single `0` is a national trunk prefix
/// (`020 7946 0018`), while `+` or `00` introduce a country code; fewer than 8 digits is too
/// short for a country code and a subscriber number. `None` for a pre-hashed value.
pub fn phone_country_code_note(raw: &str) -> Option<&'static str> {
    let trimmed = raw.trim();
    if is_sha256_hex(trimmed) {
        return None;
    }
    let all = digits(trimmed);
    let national = !trimmed.starts_with('+') && all.starts_with('0') && !all.starts_with("00");
    let short = all.trim_start_matches('0').len() < 8;
    (national || short).then_some(
        "kept, but it may lack its country code (a leading 0 or fewer than 8 digits): pass it \
         as +<country code><number>, or it matches nobody",
    )
}

fn normalise_gender(value: &str) -> Result<String, String> {
    match value.to_lowercase().as_str() {
        "f" | "female" => Ok("f".into()),
        "m" | "male" => Ok("m".into()),
        "n" | "non-binary" | "nonbinary" => Ok("n".into()),
        _ => Err("must be f, m or n".into()),
    }
}

fn normalise_date_of_birth(value: &str) -> Result<String, String> {
    let rule = || "must be a calendar date as YYYYMMDD, YYYY-MM-DD or YYYY/MM/DD".to_string();
    let bytes = value.as_bytes();
    let digit_at = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    let separated = bytes.len() == 10
        && matches!(bytes[4], b'-' | b'/')
        && bytes[7] == bytes[4]
        && [0, 1, 2, 3, 5, 6, 8, 9].into_iter().all(digit_at);
    let plain = bytes.len() == 8 && (0..8).all(digit_at);
    if !separated && !plain {
        return Err(rule());
    }
    let date = digits(value);
    let number = |range: std::ops::Range<usize>| date[range].parse::<u32>().unwrap_or(0);
    let (year, month, day) = (number(0..4), number(4..6), number(6..8));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    if (1900..=2100).contains(&year) && (1..=days_in_month).contains(&day) {
        Ok(date)
    } else {
        Err(rule())
    }
}

fn two_letter_code(value: &str, what: &str) -> Result<String, String> {
    let code = value.to_ascii_lowercase();
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_lowercase()) {
        Ok(code)
    } else {
        Err(format!("must be {what}"))
    }
}

fn digits(value: &str) -> String {
    value.chars().filter(char::is_ascii_digit).collect()
}

fn non_empty(value: String, rule: &str) -> Result<String, String> {
    if value.is_empty() {
        Err(rule.into())
    } else {
        Ok(value)
    }
}

/// What an advertising ID turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdvertisingId {
    /// A usable ID: the SHA-256 of its trimmed, lowercased UUID form.
    Hashed(String),
    /// No ID: absent or empty.
    Absent,
    /// The all-zero UUID: what the OS returns when tracking is limited (ATT not authorized,
    /// GAID opted out). No ID, and the user counts as opted out.
    Zeroed,
    /// Not a UUID; treated as no ID and counted in diagnostics.
    Malformed,
}

/// Validates and hashes an IDFA or GAID.
pub fn hash_advertising_id(raw: Option<&str>) -> AdvertisingId {
    let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return AdvertisingId::Absent;
    };
    let id = value.to_ascii_lowercase();
    if !is_uuid(&id) {
        return AdvertisingId::Malformed;
    }
    if id.bytes().all(|b| b == b'0' || b == b'-') {
        return AdvertisingId::Zeroed;
    }
    AdvertisingId::Hashed(sha256_hex(&id))
}

fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    //! Expected digests were computed independently with coreutils:
    //! `printf '%s' 'person@example.com' | sha256sum` (and likewise for each normalised value).
    use super::*;

    const EMAIL_DIGEST: &str = "542d240129883c019e106e3b1b2d3f3cb3537c43c425364de8e951d5a3083345";

    #[test]
    fn known_digests() {
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn email_is_trimmed_and_lowercased_before_hashing() {
        let hashed = hash_user_field(HashedField::Em, "  Person@Example.COM ").unwrap();
        assert_eq!(hashed, sha256_hex("person@example.com"));
        assert_eq!(hashed, EMAIL_DIGEST);
    }

    #[test]
    fn phone_keeps_digits_without_leading_zeros() {
        let hashed = hash_user_field(HashedField::Ph, "+1 (650) 555-0100").unwrap();
        assert_eq!(
            hashed,
            "43b63f22d478442e6d58c9ba5eef8a8b378b9990aafb681d11e231e3ceab6294"
        );
        assert_eq!(
            hash_user_field(HashedField::Ph, "0044 20 7946 0018").unwrap(),
            "99a4599795d24445a5be21117f375c1bbe9e795daf7f62666686ce081e1f32dc"
        );
        assert!(hash_user_field(HashedField::Ph, "call me").is_err());
    }

    #[test]
    fn each_field_normalises_per_the_brief() {
        let cases = [
            (HashedField::Fn, " Jane ", "jane"),
            (HashedField::Ln, "DOE", "doe"),
            (HashedField::Ge, "Female", "f"),
            (HashedField::Db, "1997-12-26", "19971226"),
            (HashedField::Ct, "San Francisco!", "sanfrancisco"),
            (HashedField::St, "CA", "ca"),
            (HashedField::Zp, "94103-1234", "941031234"),
            (HashedField::Country, "US", "us"),
            (HashedField::ExternalId, " user-42 ", "user-42"),
        ];
        for (field, raw, normalised) in cases {
            assert_eq!(
                hash_user_field(field, raw).unwrap(),
                sha256_hex(normalised),
                "{field:?} {raw}"
            );
        }
    }

    #[test]
    fn a_zip_code_is_digits_only() {
        for raw in ["SW1A 1AA", "K1A 0B1", "1234AB", "94103_1234"] {
            let rule = hash_user_field(HashedField::Zp, raw).unwrap_err();
            assert!(rule.contains("digits only"), "{raw}: {rule}");
        }
        assert_eq!(
            hash_user_field(HashedField::Zp, "10115").unwrap(),
            sha256_hex("10115")
        );
    }

    #[test]
    fn a_phone_without_its_country_code_is_noted() {
        for (raw, noted) in [
            ("+44 20 7946 0018", false),
            ("0044 20 7946 0018", false),
            ("16505550100", false),
            ("020 7946 0018", true),
            ("0612345678", true),
            ("555 0100", true),
            ("+1 555 010", true),
            (&sha256_hex("020 7946 0018") as &str, false),
        ] {
            assert_eq!(phone_country_code_note(raw).is_some(), noted, "{raw}");
        }
    }

    #[test]
    fn bad_values_name_the_rule() {
        assert!(hash_user_field(HashedField::Em, "no-at-sign")
            .unwrap_err()
            .contains("email"));
        assert!(hash_user_field(HashedField::Ge, "x").is_err());
        assert!(hash_user_field(HashedField::Db, "1997-13-40").is_err());
        assert!(hash_user_field(HashedField::St, "California").is_err());
        assert!(hash_user_field(HashedField::Em, "   ").is_err());
    }

    #[test]
    fn only_calendar_dates_of_birth_are_accepted() {
        for bad in [
            "2024-02-31",
            "2023-02-29",
            "1997--12-26",
            "1997-12--26",
            "1997/12-26",
            "-19971226",
            "19971226-",
            "1997-04-31",
            "1997-1226",
        ] {
            assert!(hash_user_field(HashedField::Db, bad).is_err(), "{bad}");
        }
        for good in [
            "2024-02-29",
            "2000-02-29",
            "19971226",
            "1997-12-26",
            "1997/12/26",
        ] {
            assert!(hash_user_field(HashedField::Db, good).is_ok(), "{good}");
        }
        assert!(hash_user_field(HashedField::Db, "1900-02-29").is_err());
    }

    #[test]
    fn control_characters_are_not_part_of_an_email() {
        for bad in [
            "person\0@example.com",
            "person@exa\u{7}mple.com",
            "a@b\u{7f}",
        ] {
            assert!(hash_user_field(HashedField::Em, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pre_hashed_values_pass_through_lowercased() {
        let upper = EMAIL_DIGEST.to_ascii_uppercase();
        assert_eq!(
            hash_user_field(HashedField::Em, &upper).unwrap(),
            EMAIL_DIGEST
        );
    }

    #[test]
    fn advertising_ids() {
        // printf '%s' '6d92078a-8246-4ba4-ae5b-76104861e7dc' | sha256sum
        let idfa = "6D92078A-8246-4BA4-AE5B-76104861E7DC";
        let expected =
            "31b806b4deec8c4cb1ffb18b9ab4ee1fa82a2b30e1f47902f04d03f5db023376".to_string();
        assert_eq!(
            hash_advertising_id(Some(idfa)),
            AdvertisingId::Hashed(expected.clone())
        );
        assert_eq!(
            hash_advertising_id(Some(" 6d92078a-8246-4ba4-ae5b-76104861e7dc ")),
            AdvertisingId::Hashed(expected)
        );
        assert_eq!(
            hash_advertising_id(Some("00000000-0000-0000-0000-000000000000")),
            AdvertisingId::Zeroed
        );
        assert_eq!(hash_advertising_id(None), AdvertisingId::Absent);
        assert_eq!(
            hash_advertising_id(Some("not-a-uuid")),
            AdvertisingId::Malformed
        );
    }
}
