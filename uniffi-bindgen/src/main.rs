//! The bindings generator: `uniffi-bindgen generate <library> --language kotlin|swift|python`.
//!
//! It lives in its own small crate so that enabling uniffi's `cli` feature here never forces
//! the SDK library itself to be rebuilt with the generator's dependencies.

fn main() {
    uniffi::uniffi_bindgen_main()
}
