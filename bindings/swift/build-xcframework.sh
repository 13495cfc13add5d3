#!/usr/bin/env bash
# Builds AppConversionsFFI.xcframework and the Swift bindings, on macOS with Xcode and rustup:
#
#   bindings/swift/build-xcframework.sh
#
# 1. Compiles the Rust core as static libraries (release) for iOS devices (aarch64-apple-ios),
#    the iOS simulator (aarch64-apple-ios-sim, x86_64-apple-ios) and macOS (aarch64- and
#    x86_64-apple-darwin, used by `swift test`); lipo merges each platform's architectures.
# 2. Generates AppConversions.swift into Sources/AppConversions/Generated, and the C header with
#    its module map (named module.modulemap, as an XCFramework's Headers folder needs it).
# 3. Assembles the slices with `xcodebuild -create-xcframework -library ... -headers ...`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
build=$here/build
output=$here/AppConversionsFFI.xcframework

# The same minimum versions as Package.swift, for the C code (SQLite, ring) built by cargo too.
export IPHONEOS_DEPLOYMENT_TARGET=14.0
export MACOSX_DEPLOYMENT_TARGET=12.0

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
rustup target add "${targets[@]}"
for target in "${targets[@]}"; do
  cargo build --manifest-path "$root/Cargo.toml" -p app-conversions --lib --release --target "$target"
done
"$root/scripts/build-bindgen"

library() { echo "$target_dir/$1/release/libapp_conversions.a"; }
rm -rf "$build" "$output"
mkdir -p "$build/ios-simulator" "$build/macos"
lipo -create "$(library aarch64-apple-ios-sim)" "$(library x86_64-apple-ios)" \
  -output "$build/ios-simulator/libapp_conversions.a"
lipo -create "$(library aarch64-apple-darwin)" "$(library x86_64-apple-darwin)" \
  -output "$build/macos/libapp_conversions.a"

# The bindings come from the unstripped host library; every slice exports the same interface.
host=$(uname -m | sed 's/arm64/aarch64/')
"$here/generate.sh" -H "$build/headers" "$target_dir/$host-apple-darwin/release/libapp_conversions.dylib"

xcodebuild -create-xcframework \
  -library "$(library aarch64-apple-ios)" -headers "$build/headers" \
  -library "$build/ios-simulator/libapp_conversions.a" -headers "$build/headers" \
  -library "$build/macos/libapp_conversions.a" -headers "$build/headers" \
  -output "$output"
echo "built $output"
