#!/usr/bin/env bash
# Builds the Android AAR (android/build/outputs/aar/): the Kotlin bindings generated from an
# unstripped host build, the Rust library for arm64-v8a, armeabi-v7a and x86_64 with 16 KB page
# alignment, then the Gradle library module.
#
# Without the NDK, the Maven build (run-tests.sh) assembles and checks the AAR's non-native
# content from the same sources, manifest and rules: see check-aar.sh.
#
# Needs: the Android SDK (ANDROID_HOME) and NDK (ANDROID_NDK_HOME), cargo-ndk
# (`cargo install cargo-ndk`), rustup, and Gradle 8.9+ (`gradle`, or set GRADLE).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
cd "$root"

# 1. Bindings: generated from the host library, which carries the UniFFI metadata, from the
#    workspace root so uniffi.toml is found; uniffi-kotlin.toml adds the Kotlin-only renames.
cargo build -p app-conversions --lib
scripts/build-bindgen
host_lib="$(ls "$target_dir"/debug/libapp_conversions.{so,dylib} 2>/dev/null | head -n 1)"
rm -rf "$here/android/generated"
"$target_dir/bindgen/debug/uniffi-bindgen" generate "$host_lib" --language kotlin \
  --out-dir "$here/android/generated" --no-format --config "$here/uniffi-kotlin.toml"

# 2. Native libraries, one per ABI, into jniLibs, without the built-in Rust HTTP client (the
#    Kotlin layer sends through HttpURLConnection, or the app's OkHttp). 16 KB ELF alignment is required for apps
#    targeting Android 15+ on devices with 16 KB pages (and harmless on 4 KB ones).
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
rm -rf "$here/android/src/main/jniLibs"
RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-z,max-page-size=16384" \
  cargo ndk -t arm64-v8a -t armeabi-v7a -t x86_64 --platform 24 \
  -o "$here/android/src/main/jniLibs" build -p app-conversions --lib --release --no-default-features --features ffi

# 3. The AAR.
cd "$here/android"
"${GRADLE:-gradle}" --no-daemon assembleRelease
ls "$here"/android/build/outputs/aar/*.aar
