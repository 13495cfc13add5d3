#!/usr/bin/env bash
# Runs the Kotlin bindings' JVM tests, publishes the artifacts and checks them from a consumer:
#
# 1. Maven builds the Rust library, uniffi-bindgen and the sandbox with cargo, generates the
#    bindings, compiles them with the hand-written Kotlin and the Android adapter, runs the
#    JUnit 5 tests under Surefire (its summary closes that part), checks the AAR's content and
#    deploys dev.appconversions:app-conversions-kotlin and app-conversions-android, with their
#    sources and javadoc jars, to the file repository target/maven-repo of the workspace.
# 2. Unless a single test was asked for (-Dtest=...), examples/kotlin-consumer resolves the SDK
#    from that repository by its coordinates only, builds, and tracks + flushes to the sandbox.
#
# The artifacts' version is the crate's (Cargo.toml), passed to Maven as -Drevision. Needs
# Java 17+, Maven and cargo; Maven downloads everything else. Extra arguments go to the first
# Maven run, for example -Dtest=PrivacyTest. Exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
version="$("$here/crate-version.sh")"
mvn=(mvn -B --no-transfer-progress -Drevision="$version")

# Deploy without installing: the consumer must find the SDK in the published repository.
rm -rf "$root/target/maven-repo"
"${mvn[@]}" -f "$here/pom.xml" -Dmaven.install.skip=true deploy "$@"

if [[ " $* " == *" -Dtest="* ]]; then
  exit 0
fi
echo "==> examples/kotlin-consumer: app-conversions-kotlin:$version from target/maven-repo"
export SANDBOX_BIN="${SANDBOX_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/app-conversions-sandbox}"
consumer=(-f "$root/examples/kotlin-consumer/pom.xml")
"${mvn[@]}" -q "${consumer[@]}" dependency:purge-local-repository@forget-previous-sdk
"${mvn[@]}" -q "${consumer[@]}" verify
