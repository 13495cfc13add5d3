#!/usr/bin/env bash
# Runs the Kotlin bindings' JVM tests: Maven builds the Rust library, uniffi-bindgen and the
# sandbox with cargo, generates the bindings, compiles them with the hand-written Kotlin and
# the Android adapter, and runs the JUnit 5 tests under Surefire (its summary closes the
# output). Needs Java 17+, Maven and cargo; Maven downloads everything else. Extra arguments
# go to Maven, for example -Dtest=PrivacyTest. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
exec mvn -B --no-transfer-progress -f pom.xml verify "$@"
