#!/usr/bin/env bash
# Fails unless the version the Maven build publishes (its argument) is the crate's, `version` in
# the workspace's Cargo.toml: the crate, the Maven artifacts and the Swift package share one.
# run-tests.sh passes it as -Drevision; so must any other `mvn` run of this project.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
crate="$("$here/crate-version.sh")"
if [[ "${1:-}" != "$crate" ]]; then
  echo "check-version: the Maven version is '${1:-}', the crate's (Cargo.toml) is '$crate': run run-tests.sh, or pass -Drevision=$crate" >&2
  exit 1
fi
