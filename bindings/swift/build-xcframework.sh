#!/usr/bin/env bash
# Builds AppConversionsFFI.xcframework and its release zip, on macOS with Xcode and rustup:
#
#   bindings/swift/build-xcframework.sh                     # development: the XCFramework
#   bindings/swift/build-xcframework.sh --release BASE_URL  # also points Package.swift at the zip
#
# 1. Compiles the Rust core as static libraries (release profile) for iOS devices
#    (aarch64-apple-ios), the iOS simulator (aarch64-apple-ios-sim, x86_64-apple-ios) and macOS
#    (aarch64- and x86_64-apple-darwin, used by `swift test`); lipo merges each platform's
#    architectures.
# 2. Generates the bindings from the host's debug library (unstripped; the committed Swift
#    comes from the same build, scripts/gen-swift): the C header and module map go into the
#    XCFramework, and the Swift must equal the committed
#    Sources/AppConversions/Generated/AppConversions.swift, or the script stops (the header
#    in the zip would not match the Swift that apps compile).
# 3. Assembles the slices with `xcodebuild -create-xcframework -library ... -headers ...`.
# 4. Zips it as AppConversionsFFI-<version>.xcframework.zip (the crate's version, Cargo.toml)
#    and writes its SHA-256 beside it (.sha256): the checksum `swift package compute-checksum`
#    prints for the zip.
# 5. With --release BASE_URL: writes `releaseURL = "BASE_URL/<zip name>"` and its checksum into
#    the root Package.swift. Commit that, tag the commit with the version, and upload the zip
#    to BASE_URL (for GitHub: https://github.com/<owner>/<repo>/releases/download/<version>).
#    Without --release, Package.swift is left alone.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
build=$here/build
output=$here/AppConversionsFFI.xcframework

release_base=
case "${1:-}" in
  "") ;;
  --release)
    release_base=${2:?"--release needs the base URL the zip will be downloaded from"}
    release_base=${release_base%/}
    [[ $release_base == https://* ]] || { echo "build-xcframework.sh: the base URL must be https://" >&2; exit 2; }
    ;;
  *) echo "usage: $0 [--release BASE_URL]" >&2; exit 2 ;;
esac

version=$("$root/bindings/kotlin/crate-version.sh")
zip=$here/AppConversionsFFI-$version.xcframework.zip

# The same minimum versions as Package.swift, for the C code (SQLite) built by cargo too.
export IPHONEOS_DEPLOYMENT_TARGET=14.0
export MACOSX_DEPLOYMENT_TARGET=12.0

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
rustup target add "${targets[@]}"
# Without the built-in Rust HTTP client: the Swift layer sends through URLSession.
for target in "${targets[@]}"; do
  cargo build --manifest-path "$root/Cargo.toml" -p app-conversions --lib --release --target "$target" \
    --no-default-features --features ffi
done
cargo build --manifest-path "$root/Cargo.toml" -p app-conversions --lib
"$root/scripts/build-bindgen"

library() { echo "$target_dir/$1/release/libapp_conversions.a"; }
rm -rf "$build" "$output" "$zip" "$zip.sha256"
mkdir -p "$build/ios-simulator" "$build/macos"
lipo -create "$(library aarch64-apple-ios-sim)" "$(library x86_64-apple-ios)" \
  -output "$build/ios-simulator/libapp_conversions.a"
lipo -create "$(library aarch64-apple-darwin)" "$(library x86_64-apple-darwin)" \
  -output "$build/macos/libapp_conversions.a"

# Header, module map and Swift from one run of the generator, so they agree with each other.
"$here/generate.sh" -o "$build/swift" -H "$build/headers"
if ! cmp -s "$build/swift/AppConversions.swift" "$here/Sources/AppConversions/Generated/AppConversions.swift"; then
  echo "build-xcframework.sh: Sources/AppConversions/Generated/AppConversions.swift is stale: run scripts/gen-swift and commit it" >&2
  exit 1
fi

xcodebuild -create-xcframework \
  -library "$(library aarch64-apple-ios)" -headers "$build/headers" \
  -library "$build/ios-simulator/libapp_conversions.a" -headers "$build/headers" \
  -library "$build/macos/libapp_conversions.a" -headers "$build/headers" \
  -output "$output"

# The zip holds the .xcframework folder at its top level, as SwiftPM expects.
(cd "$here" && ditto -c -k --sequesterRsrc --keepParent "$(basename "$output")" "$zip")
checksum=$(shasum -a 256 "$zip" | cut -d ' ' -f 1)
echo "$checksum" >"$zip.sha256"
echo "built $output"
echo "zipped $zip, SHA-256 $checksum"

if [[ -n $release_base ]]; then
  url="$release_base/$(basename "$zip")"
  sed -i '' \
    -e "s|^let releaseURL = \".*\"\$|let releaseURL = \"$url\"|" \
    -e "s|^let releaseChecksum = \".*\"\$|let releaseChecksum = \"$checksum\"|" \
    "$root/Package.swift"
  grep -q "^let releaseChecksum = \"$checksum\"\$" "$root/Package.swift" ||
    { echo "build-xcframework.sh: could not write the release lines into Package.swift" >&2; exit 1; }
  echo "Package.swift now points at $url: commit it, tag the commit $version, upload the zip"
fi
