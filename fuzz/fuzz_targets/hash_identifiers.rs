//! Fuzzes identifier normalisation: `hash_user_field` for every field and
//! `hash_advertising_id`. Never a panic; a digest is always 64 lowercase hex characters and
//! passes through unchanged when hashed again (it is taken as pre-hashed).
#![no_main]

use app_conversions::internals::hash::{
    hash_advertising_id, hash_user_field, AdvertisingId, HashedField,
};
use libfuzzer_sys::fuzz_target;

const FIELDS: [HashedField; 11] = [
    HashedField::Em,
    HashedField::Ph,
    HashedField::Fn,
    HashedField::Ln,
    HashedField::Ge,
    HashedField::Db,
    HashedField::Ct,
    HashedField::St,
    HashedField::Zp,
    HashedField::Country,
    HashedField::ExternalId,
];

fn is_hex64(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fuzz_target!(|input: (u8, &str)| {
    let (selector, raw) = input;
    let field = FIELDS[usize::from(selector) % FIELDS.len()];
    match hash_user_field(field, raw) {
        Ok(digest) => {
            assert!(is_hex64(&digest), "{field:?}({raw:?}) = {digest}");
            assert_eq!(hash_user_field(field, &digest), Ok(digest));
        }
        Err(rule) => assert!(!rule.is_empty()),
    }
    if let AdvertisingId::Hashed(digest) = hash_advertising_id(Some(raw)) {
        assert!(is_hex64(&digest));
        assert_eq!(raw.trim().len(), 36, "only a UUID is hashed");
    }
});
