// The SDK's version. The crate's `version` in the root Cargo.toml is the source; this constant,
// the Maven artifacts, the release zip's name in Package.swift, the README's install snippets
// and the CHANGELOG's latest release carry the same one, and scripts/check-version fails when
// any of them differs.

extension Conversions {
    /// The SDK's version (for example "0.1.0"), shared by the Rust core, the Swift package and
    /// the Kotlin artifacts.
    public static let version = "0.1.0"
}
