#!/usr/bin/env bash
# Generates the Swift bindings from a built app_conversions library (unstripped: the bindings
# are read from its UniFFI metadata).
#
#   generate.sh [-o SWIFT_DIR] [-H HEADERS_DIR] [LIBRARY]
#
# SWIFT_DIR (default Sources/AppConversions/Generated, committed: scripts/gen-swift builds the
# library and runs this to rewrite it) receives AppConversions.swift. With -H,
# HEADERS_DIR also receives the C header AppConversionsFFI.h and the module map, renamed
# module.modulemap as an XCFramework's Headers folder needs it. LIBRARY defaults to the host's
# debug build. uniffi-bindgen runs from the workspace root so that uniffi.toml is found, with
# --metadata-no-deps: every exported type is in this workspace, and cargo then neither resolves
# nor rewrites Cargo.lock.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
bindgen=${UNIFFI_BINDGEN:-$target_dir/bindgen/debug/uniffi-bindgen}

swift_dir=$here/Sources/AppConversions/Generated
headers_dir=
while getopts "o:H:" flag; do
  case $flag in
    o) swift_dir=$OPTARG ;;
    H) headers_dir=$OPTARG ;;
    *) echo "usage: $0 [-o SWIFT_DIR] [-H HEADERS_DIR] [LIBRARY]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

case "$(uname -s)" in Darwin) ext=dylib ;; *) ext=so ;; esac
library=${1:-$target_dir/debug/libapp_conversions.$ext}
for file in "$bindgen" "$library"; do
  [[ -f $file ]] || { echo "generate.sh: $file not found (run scripts/build-native first)" >&2; exit 1; }
done
library=$(cd "$(dirname "$library")" && pwd)/$(basename "$library")

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
(cd "$root" && "$bindgen" generate "$library" --language swift --metadata-no-deps --out-dir "$staging" --no-format >/dev/null)

mkdir -p "$swift_dir"
cp "$staging/AppConversions.swift" "$swift_dir/"
if [[ -n $headers_dir ]]; then
  mkdir -p "$headers_dir"
  cp "$staging/AppConversionsFFI.h" "$headers_dir/"
  cp "$staging/AppConversionsFFI.modulemap" "$headers_dir/module.modulemap"
fi
echo "generated Swift bindings in $swift_dir${headers_dir:+, header and module map in $headers_dir}"
