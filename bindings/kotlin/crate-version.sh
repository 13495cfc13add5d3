#!/usr/bin/env bash
# Prints the crate's version: `version` in the [package] table of the workspace's Cargo.toml.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(sed -n '/^\[package\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' "$here/../../Cargo.toml")"
[[ -n "$version" ]] || { echo "crate-version: no version in the [package] table of Cargo.toml" >&2; exit 1; }
echo "$version"
