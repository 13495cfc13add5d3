#!/usr/bin/env bash
# Checks the Swift layer without a Swift toolchain (Swift itself is compiled by the macOS
# workflow, .github/workflows/swift.yml). Run after cargo has built the library and
# uniffi-bindgen (scripts/build-native):
#
#   bindings/swift/check.sh [LIBRARY]
#
# Regenerates the bindings from the library into a temporary folder, then check_swift.py parses
# every Swift file with tree-sitter-swift and checks that the committed
# Sources/AppConversions/Generated/AppConversions.swift equals the fresh one (when stale it
# fails and says to run scripts/gen-swift), names, API use (labels, `try` before a throwing
# call), Package.swift's release switch and the Swift version, docs and the privacy manifest.
# The pinned parser is installed into bindings/swift/.venv when the pins change.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
venv=$here/.venv

if ! cmp -s "$here/check-requirements.txt" "$venv/installed-requirements.txt"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/check-requirements.txt"
  cp "$here/check-requirements.txt" "$venv/installed-requirements.txt"
fi

generated=$(mktemp -d)
trap 'rm -rf "$generated"' EXIT
"$here/generate.sh" -o "$generated/swift" -H "$generated/headers" "$@"
"$venv/bin/python" "$here/check_swift.py" --generated "$generated/swift" --headers "$generated/headers"
