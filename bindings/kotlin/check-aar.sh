#!/usr/bin/env bash
# Assembles the AAR without native libraries from the Maven build's jar, into
# target/aar/app-conversions-no-native.aar, checks what an app gets from it, and lists it.
# The Maven build runs it in its verify phase; build-aar.sh remains the way to build the real
# AAR (with the NDK and Gradle), from the same sources, manifest and rules.
#
# Checks: the entries are exactly AndroidManifest.xml, classes.jar, proguard.txt and R.txt (no
# jni/ here); the manifest has the package, minSdk and the INTERNET and ACCESS_NETWORK_STATE
# permissions; proguard.txt keeps JNA and dev.appconversions; classes.jar holds the Kotlin API,
# the generated bindings and the Android adapter, and neither Android, Kotlin nor JNA classes.
# Usage: check-aar.sh <jar of the Maven build> <output folder>. Needs only the JDK's `jar`.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
classes_jar="$1"
out="$(cd "$2" && pwd)/aar"
stage="$out/stage"
aar="$out/app-conversions-no-native.aar"
rm -rf "$out"
mkdir -p "$stage"

fail() { echo "check-aar: $*" >&2; exit 1; }

# What AGP writes into an AAR's manifest: the namespace as package, and the minSdk.
min_sdk="$(sed -n 's/^ *minSdk = \([0-9][0-9]*\).*/\1/p' "$here/android/build.gradle.kts")"
namespace="$(sed -n 's/^ *namespace = "\(.*\)".*/\1/p' "$here/android/build.gradle.kts")"
[[ -n "$min_sdk" && -n "$namespace" ]] || fail "no minSdk or namespace in android/build.gradle.kts"
sed "s|<manifest xmlns:android=\"http://schemas.android.com/apk/res/android\">|&\n    <uses-sdk android:minSdkVersion=\"$min_sdk\" />|; s|<manifest |<manifest package=\"$namespace\" |" \
  "$here/android/src/main/AndroidManifest.xml" >"$stage/AndroidManifest.xml"
cp "$classes_jar" "$stage/classes.jar"
cp "$here/android/consumer-rules.pro" "$stage/proguard.txt"
: >"$stage/R.txt"
(cd "$stage" && jar --create --no-manifest --file "$aar" AndroidManifest.xml classes.jar proguard.txt R.txt)

entries="$(jar tf "$aar" | sort | tr '\n' ' ')"
[[ "$entries" == "AndroidManifest.xml R.txt classes.jar proguard.txt " ]] || fail "unexpected entries: $entries"

manifest="$stage/AndroidManifest.xml"
for needed in "package=\"$namespace\"" "android:minSdkVersion=\"$min_sdk\"" \
  'android.permission.INTERNET' 'android.permission.ACCESS_NETWORK_STATE'; do
  grep -qF "$needed" "$manifest" || fail "AndroidManifest.xml lacks $needed"
done

for rule in '-keep class com.sun.jna.** { *; }' '-keep class dev.appconversions.** { *; }'; do
  grep -qF -- "$rule" "$stage/proguard.txt" || fail "proguard.txt lacks: $rule"
done

classes="$(jar tf "$stage/classes.jar")"
for class in \
  dev/appconversions/Conversions.class \
  dev/appconversions/StandardEvents.class \
  dev/appconversions/ConversionsClient.class \
  dev/appconversions/ConversionsException.class \
  dev/appconversions/android/AndroidConversions.class \
  dev/appconversions/android/ForegroundTracker.class \
  dev/appconversions/android/NetworkMonitor.class; do
  grep -qxF "$class" <<<"$classes" || fail "classes.jar lacks $class"
done
if grep -qE '^(android|androidx|kotlin|kotlinx|com/sun/jna)/' <<<"$classes"; then
  fail "classes.jar bundles a dependency: $(grep -E '^(android|androidx|kotlin|kotlinx|com/sun/jna)/' <<<"$classes" | head -n 3)"
fi

echo "AAR without native libraries: ${aar#"$here"/} (the real one adds jni/<abi>/libapp_conversions.so)"
jar tvf "$aar" | sed 's/^/  /'
echo "  classes.jar: $(grep -c '\.class$' <<<"$classes") classes in $(grep '\.class$' <<<"$classes" | sed 's|/[^/]*$||' | sort -u | tr '\n' ' ')"
