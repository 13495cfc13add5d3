#!/usr/bin/env python3
"""Checks the Swift layer where no Swift compiler runs (Swift is compiled on macOS CI only).

check.sh regenerates the bindings from the current library and runs this with their folders:

    check_swift.py --generated DIR_WITH_AppConversions.swift --headers DIR_WITH_HEADER_AND_MODULEMAP

Checks, each printed as `ok` or `FAIL` with a reason:
  self-test  the parser flags a deliberately broken snippet and accepts a correct one
  syntax     every Swift file (generated bindings, hand-written sources, tests, Package.swift)
             parses with tree-sitter-swift without ERROR or MISSING nodes
  generated  the committed Sources/AppConversions/Generated/AppConversions.swift is the one the
             library generates now (not stale) and is not ignored by git
  names      module, header and target names agree across uniffi.toml, Package.swift (at the
             repository's root), the generated files, the module map and the scripts
  release    Package.swift's one switch is consistent: release URL and checksum both empty
             (development, the local XCFramework) or both set, the checksum a SHA-256 and the
             URL naming the zip of the crate's version; AppConversionsVersion.swift carries
             the crate's version
  api        calls to the initialisers and methods of generated and hand-written types (and
             of `client`, `conversions` and `sandbox` receivers) use argument labels their
             declarations have, in order; named enum members and switch cases exist
  docs       every public declaration in the hand-written sources has a `///` comment
  uikit      UIKit-only symbols (UI... types, `import UIKit`, types declared only under the
             guard) appear in sources and tests only under `#if canImport(UIKit)`, so the
             macOS runner, which has no UIKit, can build the package and its tests
             (uikit_guard.py)
  privacy    PrivacyInfo.xcprivacy is a well-formed privacy manifest, is a resource of the
             target, lists no tracking domain (iOS would block the SDK's own endpoint),
             declares exactly the data types of collected-data.json (every field the core
             can send) and the required-reason APIs the Swift code uses

Two allowances for tree-sitter-swift 0.7.4, each exact and nothing more: the attribute
`@_documentation(visibility: private)`, which UniFFI emits and the grammar does not know, is
blanked (same length, so positions stay true) before parsing; and in the generated bindings
only, the closure `{ () }` (valid Swift, a closure returning the empty tuple; the grammar reads
`()` as a closure signature) is reported as a known grammar gap instead of a failure.

Exits 1 if any check fails; the last line reads `swift-checks: N passed, M failed`.
"""

from __future__ import annotations

import argparse
import difflib
import json
import plistlib
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter_swift
from tree_sitter import Language, Node, Parser

from uikit_guard import check_uikit_guard, self_test as uikit_self_test

SWIFT_DIR = Path(__file__).resolve().parent
ROOT = SWIFT_DIR.parent.parent
PACKAGE = ROOT / "Package.swift"
GENERATED = SWIFT_DIR / "Sources" / "AppConversions" / "Generated"
VERSION_FILE = SWIFT_DIR / "Sources" / "AppConversions" / "AppConversionsVersion.swift"
# The one command that rebuilds the library and rewrites the committed bindings.
REGENERATE = "scripts/gen-swift"
PARSER = Parser(Language(tree_sitter_swift.language()))

DOC_ATTRIBUTE = b"@_documentation(visibility: private)"
KNOWN_GAP = b"{()}"


# ---------------------------------------------------------------------------------------------
# Parsing


def parse(source: bytes):
    """Parses Swift source, with UniFFI's documentation attribute blanked out."""
    return PARSER.parse(source.replace(DOC_ATTRIBUTE, b" " * len(DOC_ATTRIBUTE)))


def problem_nodes(tree) -> list[Node]:
    """Every ERROR or MISSING node, without descending into an ERROR."""
    found, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            found.append(node)
        elif node.has_error:
            stack.extend(node.children)
    return sorted(found, key=lambda n: n.start_byte)


def is_known_gap(node: Node) -> bool:
    """The `{ () }` closure that tree-sitter-swift 0.7.4 cannot parse."""
    parent = node.parent
    return (
        node.is_error
        and parent is not None
        and parent.type == "lambda_literal"
        and b"".join(parent.text.split()) == KNOWN_GAP
    )


def describe(node: Node) -> str:
    row, column = node.start_point
    kind = f"MISSING {node.type}" if node.is_missing else "ERROR"
    snippet = node.text.decode(errors="replace").splitlines()[0][:60] if node.text else ""
    return f"{kind} at {row + 1}:{column + 1} {snippet!r}"


def walk(node: Node):
    yield node
    for child in node.children:
        yield from walk(child)


# ---------------------------------------------------------------------------------------------
# Results


@dataclass
class Report:
    passed: int = 0
    failed: list[str] = field(default_factory=list)

    def check(self, name: str, problems: list[str], note: str = "") -> None:
        if problems:
            self.failed.append(name)
            print(f"FAIL {name}")
            for problem in problems:
                print(f"       {problem}")
        else:
            self.passed += 1
            print(f"ok   {name}{f'  ({note})' if note else ''}")


# ---------------------------------------------------------------------------------------------
# Checks


def self_test() -> list[str]:
    broken = b"func broken(_ value: Int {\n    let total = value +\n}\n"
    good = b"struct Fine {\n    let writeReturn = { return }\n    func run() throws -> Int { 1 }\n}\n"
    problems = []
    if not problem_nodes(parse(broken)):
        problems.append("the broken snippet parsed without errors: the parser cannot be trusted")
    if problem_nodes(parse(good)):
        problems.append("a correct snippet failed to parse")
    if parse(b"@_documentation(visibility: private)\npublic func f() {}\n").root_node.has_error:
        problems.append("the documentation attribute was not neutralised")
    gap = problem_nodes(parse(b"let writeReturn = { () }\n"))
    if not gap:
        problems.append("tree-sitter-swift now parses `{ () }`: drop the known-gap allowance")
    elif not all(is_known_gap(node) for node in gap):
        problems.append("`{ () }` fails differently than the known-gap allowance expects")
    if any(is_known_gap(node) for node in problem_nodes(parse(broken))):
        problems.append("a real syntax error was taken for the known gap")
    return problems


def check_syntax(path: Path, generated: bool) -> tuple[list[str], str]:
    problems, gaps = [], 0
    for node in problem_nodes(parse(path.read_bytes())):
        if generated and is_known_gap(node):
            gaps += 1
        else:
            problems.append(describe(node))
    return problems, f"{gaps} known grammar gap(s) `{{ () }}`" if gaps else ""


def package_facts(package: str) -> dict[str, str | None]:
    def find(pattern: str) -> str | None:
        match = re.search(pattern, package, re.S | re.M)
        return match.group(1) if match else None

    return {
        "tools": find(r"swift-tools-version:\s*([\d.]+)"),
        "binary_name": find(r'\.binaryTarget\(\s*name:\s*"([^"]+)"'),
        "binary_path": find(r'\.binaryTarget\([^)]*path:\s*"([^"]+)"'),
        "binary_url": find(r'\.binaryTarget\([^)]*url:\s*(\w+)'),
        "binary_checksum": find(r'\.binaryTarget\([^)]*checksum:\s*(\w+)'),
        "release_url": find(r'^let releaseURL = "([^"]*)"$'),
        "release_checksum": find(r'^let releaseChecksum = "([^"]*)"$'),
        "target_name": find(r'\.target\(\s*name:\s*"([^"]+)"'),
        "target_deps": find(r'\.target\(.*?dependencies:\s*\[([^\]]*)\]'),
        "target_path": find(r'\.target\(.*?path:\s*"([^"]+)"'),
        "product": find(r'\.library\(\s*name:\s*"([^"]+)"'),
        "languages": find(r"swiftLanguageVersions:\s*\[([^\]]*)\]"),
    }


def check_names(generated: Path, headers: Path) -> list[str]:
    config = tomllib.loads((ROOT / "uniffi.toml").read_text())["bindings"]["swift"]
    module, ffi = config["module_name"], config["ffi_module_name"]
    ffi_file = config.get("ffi_module_filename", ffi)
    header = f"{ffi_file}.h"
    package = package_facts(PACKAGE.read_text())
    problems = []

    def expect(what: str, actual, wanted) -> None:
        if actual != wanted:
            problems.append(f"{what}: {actual!r}, expected {wanted!r}")

    expect("uniffi.toml generate_module_map", config.get("generate_module_map"), True)
    expect("Package.swift tools version", package["tools"], "5.9")
    expect("Package.swift language versions", package["languages"], ".v5")
    expect("Package.swift binary target", package["binary_name"], ffi)
    expect("Package.swift binary target path", package["binary_path"], f"bindings/swift/{ffi}.xcframework")
    expect("Package.swift Swift target", package["target_name"], module)
    expect("Package.swift Swift target path", package["target_path"], f"bindings/swift/Sources/{module}")
    expect("Package.swift product", package["product"], module)
    if f'"{ffi}"' not in (package["target_deps"] or ""):
        problems.append(f"the {module} target does not depend on {ffi}")

    swift_file = generated / f"{module}.swift"
    if not swift_file.is_file():
        problems.append(f"generated bindings {swift_file.name} missing")
    else:
        bindings = swift_file.read_text()
        for line in (f"#if canImport({ffi})", f"import {ffi}"):
            if line not in bindings:
                problems.append(f"generated bindings lack `{line}`")
    if not (headers / header).is_file():
        problems.append(f"generated header {header} missing")
    modulemap = headers / "module.modulemap"
    if not modulemap.is_file():
        problems.append("module.modulemap missing")
    else:
        text = modulemap.read_text()
        if not re.search(rf"^module {re.escape(ffi)} \{{", text, re.M):
            problems.append(f"module.modulemap does not declare `module {ffi}`")
        if f'header "{header}"' not in text:
            problems.append(f"module.modulemap does not name header {header}")

    scripts = {
        "generate.sh": [f"{module}.swift", header, f"{ffi_file}.modulemap", "module.modulemap"],
        "build-xcframework.sh": [f"{ffi}.xcframework", "-headers"],
        ".gitignore": [f"/{ffi}.xcframework/"],
    }
    for script, needles in scripts.items():
        text = (SWIFT_DIR / script).read_text()
        problems += [f"{script} does not mention {needle}" for needle in needles if needle not in text]
    return problems


def check_generated(generated: Path) -> list[str]:
    """The committed bindings are what the library generates now, and git does not ignore them."""
    module = tomllib.loads((ROOT / "uniffi.toml").read_text())["bindings"]["swift"]["module_name"]
    committed, fresh = GENERATED / f"{module}.swift", generated / f"{module}.swift"
    where = committed.relative_to(ROOT)
    problems = []
    if not committed.is_file():
        problems.append(f"{where} is missing: run {REGENERATE} and commit it")
    elif fresh.is_file() and committed.read_bytes() != fresh.read_bytes():
        diff = list(difflib.unified_diff(
            committed.read_text().splitlines(), fresh.read_text().splitlines(),
            "committed", "generated now", n=0, lineterm=""))
        changed = sum(1 for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---"))
        problems.append(f"{where} is stale: the library generates different bindings "
                        f"({changed} changed lines). Run {REGENERATE} and commit the result.")
        problems += [f"  {line}" for line in diff[2:14]]
    try:
        ignored = subprocess.run(["git", "check-ignore", "-q", str(committed)], cwd=ROOT).returncode == 0
    except FileNotFoundError:
        ignored = False
    if ignored:
        problems.append(f"{where} is ignored by git: it must be committed")
    return problems


def crate_version() -> str:
    return tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]["version"]


def check_release(ffi: str) -> list[str]:
    """Package.swift's switch between the local XCFramework and a release's zip, and the
    version the Swift code reports."""
    version = crate_version()
    package = package_facts(PACKAGE.read_text())
    url, checksum = package["release_url"], package["release_checksum"]
    problems = []
    if url is None or checksum is None:
        return ['Package.swift must declare `let releaseURL = "..."` and `let releaseChecksum = "..."` '
                "(empty in development) on lines of their own"]
    if package["binary_url"] != "releaseURL" or package["binary_checksum"] != "releaseChecksum":
        problems.append("Package.swift's url: binary target must use releaseURL and releaseChecksum")
    if bool(url) != bool(checksum):
        problems.append(f"Package.swift: releaseURL {url!r} and releaseChecksum {checksum!r} must be both "
                        "empty (development) or both set (a release): run build-xcframework.sh --release")
    if checksum and not re.fullmatch(r"[0-9a-f]{64}", checksum):
        problems.append(f"Package.swift: releaseChecksum {checksum!r} is not a SHA-256 (64 lowercase hex digits)")
    zip_name = f"{ffi}-{version}.xcframework.zip"
    if url and not (url.startswith("https://") and url.endswith(f"/{zip_name}")):
        problems.append(f"Package.swift: releaseURL {url!r} must be an https URL of {zip_name} "
                        f"(the crate's version is {version})")
    match = re.search(r'public static let version = "([^"]*)"', VERSION_FILE.read_text()) if VERSION_FILE.is_file() else None
    if match is None:
        problems.append(f"{VERSION_FILE.relative_to(ROOT)} must declare `public static let version = \"...\"`")
    elif match.group(1) != version:
        problems.append(f"{VERSION_FILE.relative_to(ROOT)} says {match.group(1)}, the crate (Cargo.toml) {version}")
    return problems


Signature = list[tuple[str | None, bool]]
Declaration = tuple[Signature, bool]


@dataclass
class Api:
    """Initialisers, methods and enum cases per type, for the types the generated bindings and
    the hand-written sources declare (nested types as `Outer.Inner`). Each initialiser and
    method is a (parameters, throws) pair."""

    inits: dict[str, list[Declaration]] = field(default_factory=dict)
    methods: dict[str, dict[str, list[Declaration]]] = field(default_factory=dict)
    cases: dict[str, set[str]] = field(default_factory=dict)


# Receivers whose type the check assumes from their name: the generated client inside the
# wrapper; the wrapper and the sandbox in the tests.
RECEIVER_TYPES = {
    "client": "ConversionsClient",
    "conversions": "Conversions",
    "recording": "RecordingConversions",
    "sandbox": "Sandbox",
}

# Protocols whose extension methods (the typed helpers) belong to the types adopting them.
PROTOCOL_ADOPTERS = {"ConversionsTracking": ["Conversions", "RecordingConversions"]}


def parameters(declaration: Node) -> Signature:
    """(argument label or None for `_`, has a default) for each parameter, in order."""
    params: Signature = []
    for index, child in enumerate(declaration.children):
        if child.type == "parameter":
            label_node = child.child_by_field_name("external_name") or child.child_by_field_name("name")
            label = label_node.text.decode()
            params.append((None if label == "_" else label, False))
        elif declaration.field_name_for_child(index) == "default_value" and params:
            params[-1] = (params[-1][0], True)
    return params


def type_declarations(nodes, outer: str = ""):
    """(kind, qualified name, body) of each struct, class, enum, protocol or extension,
    nested ones included."""
    for node in nodes:
        kind = node.child_by_field_name("declaration_kind")
        if node.type not in ("class_declaration", "protocol_declaration") or kind is None:
            continue
        name = node.child_by_field_name("name").text.decode()
        name = f"{outer}.{name}" if outer and kind.type != "extension" else name
        body = node.child_by_field_name("body")
        yield kind.type, name, body
        if body is not None:
            yield from type_declarations(body.children, name)


def read_api(bindings: Path, hand_written: list[Path]) -> Api:
    """What the bindings and the hand-written sources declare, extensions included (they add
    initialisers such as `PrivacyState(trackingAuthorization:)` and the wrapper's helpers)."""
    api = Api()
    trees = [parse(path.read_bytes()).root_node.children for path in [bindings, *hand_written]]
    types = {name for tree in trees for kind, name, _ in type_declarations(tree) if kind != "extension"}
    for tree in trees:
        for _, name, body in type_declarations(tree):
            if name not in types or body is None:
                continue
            for member in body.children:
                throws = any(child.type == "throws" for child in member.children)
                if member.type == "init_declaration":
                    api.inits.setdefault(name, []).append((parameters(member), throws))
                elif member.type == "function_declaration":
                    method = member.child_by_field_name("name").text.decode()
                    api.methods.setdefault(name, {}).setdefault(method, []).append((parameters(member), throws))
                elif member.type == "enum_entry":
                    api.cases.setdefault(name, set()).add(member.child_by_field_name("name").text.decode())
    for protocol, adopters in PROTOCOL_ADOPTERS.items():
        for method, declarations in api.methods.get(protocol, {}).items():
            for adopter in adopters:
                api.methods.setdefault(adopter, {}).setdefault(method, []).extend(declarations)
    return api


def labels_fit(labels: list[str | None], params: Signature) -> bool:
    """Whether call labels match the parameters in order, skipping only defaulted ones."""
    remaining = list(labels)
    for label, has_default in params:
        if remaining and remaining[0] == label:
            remaining.pop(0)
        elif not has_default:
            return False
    return not remaining


def call_labels(call: Node) -> list[str | None] | None:
    """The argument labels of a call with parentheses; None for a trailing closure alone."""
    suffix = next((c for c in call.children if c.type == "call_suffix"), None)
    arguments = next((c for c in suffix.children if c.type == "value_arguments"), None) if suffix else None
    if arguments is None:
        return None
    labels = []
    for argument in arguments.children:
        if argument.type == "value_argument":
            label = argument.child_by_field_name("name")
            labels.append(label.text.decode() if label else None)
    return labels


def spelled(callee: str, labels: list[str | None]) -> str:
    """A call as Swift names it, such as `ClientConfig(endpoint:adAccountId:)`."""
    return callee + "(" + "".join(f"{label or '_'}:" for label in labels) + ")"


def under_try(node: Node) -> bool:
    """Whether a `try` (or `try?`, `try!`) covers the expression, within its closure or function."""
    parent = node.parent
    while parent is not None and parent.type not in ("lambda_literal", "function_body", "computed_property"):
        if parent.type == "try_expression":
            return True
        parent = parent.parent
    return False


def signatures_for(callee: Node, api: Api) -> tuple[str, list[Declaration]] | None:
    """The declarations a callee can mean: `Type(`, `Outer.Type(`, `Type.method(` or
    `receiver.method(` for the receivers in RECEIVER_TYPES; None when the check cannot tell."""
    if callee.type == "simple_identifier":
        name = callee.text.decode()
        return (name, api.inits[name]) if name in api.inits else None
    if callee.type != "navigation_expression":
        return None
    target = callee.child_by_field_name("target").text.decode().rstrip("?")
    suffix = callee.child_by_field_name("suffix").child_by_field_name("suffix")
    if suffix is None:
        return None
    member = suffix.text.decode()
    if f"{target}.{member}" in api.inits:
        return f"{target}.{member}", api.inits[f"{target}.{member}"]
    owner = RECEIVER_TYPES.get(target, target)
    if owner in api.methods and (owner != target or member in api.methods[owner]):
        return f"{target}.{member}", api.methods[owner].get(member, [])
    return None


CASE_PATTERN = re.compile(r"(?:(?:let|var)\s+)?\.(\w+)")


def switch_problems(switch: Node, api: Api) -> list[str]:
    """Cases of a switch over a declared enum, told by most of its `.case` patterns matching
    that enum, that the enum does not have (a renamed variant, say)."""
    names = [
        match.group(1)
        for entry in switch.children if entry.type == "switch_entry"
        for pattern in entry.children if pattern.type == "switch_pattern"
        if (match := CASE_PATTERN.match(pattern.text.decode()))
    ]
    if not names or not api.cases:
        return []
    enum, cases = max(api.cases.items(), key=lambda item: len(set(names) & item[1]))
    if 2 * len(set(names) & cases) < len(set(names)):
        return []
    return [f"{enum} has no case {name}" for name in names if name not in cases]


def check_api(sources: list[Path], api: Api) -> list[str]:
    """Calls of declared initialisers and methods (their labels, and `try` before one that
    throws), `Enum.member` references and the cases of switches over declared enums."""
    problems = []
    for path in sources:
        for node in walk(parse(path.read_bytes()).root_node):
            where = f"{path.relative_to(SWIFT_DIR)}:{node.start_point[0] + 1}"
            if node.type == "switch_statement":
                problems += [f"{where}: {problem}" for problem in switch_problems(node, api)]
            if node.type == "navigation_expression":
                target, suffix = node.child_by_field_name("target"), node.child_by_field_name("suffix")
                member = suffix.child_by_field_name("suffix") if suffix else None
                if target and member and target.text.decode() in api.cases:
                    enum = target.text.decode()
                    if member.text.decode() not in api.cases[enum]:
                        problems.append(f"{where}: {enum} has no case {member.text.decode()}")
            if node.type != "call_expression" or (labels := call_labels(node)) is None:
                continue
            found = signatures_for(node.children[0], api)
            if found is None:
                continue
            callee, signatures = found
            if not signatures:
                problems.append(f"{where}: no declaration of {callee}")
            elif not (throwing := [throws for params, throws in signatures if labels_fit(labels, params)]):
                problems.append(f"{where}: {spelled(callee, labels)} matches no declaration")
            elif all(throwing) and not under_try(node):
                problems.append(f"{where}: {spelled(callee, labels)} throws but no `try` covers the call")
    return problems


PUBLIC_DECLARATION = re.compile(r"^\s*(?:public|open)\b")
ATTRIBUTE = re.compile(r"^\s*@\w+")


def check_docs(sources: list[Path]) -> list[str]:
    problems = []
    for path in sources:
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            if not PUBLIC_DECLARATION.match(line):
                continue
            above = number - 1
            while above >= 0 and ATTRIBUTE.match(lines[above]):
                above -= 1
            if above < 0 or not lines[above].strip().startswith("///"):
                problems.append(f"{path.relative_to(SWIFT_DIR)}:{number + 1}: no /// comment on `{line.strip()}`")
    return problems


# Swift spellings of required-reason APIs, by the manifest category that must declare them.
REQUIRED_REASON_APIS = {
    "NSPrivacyAccessedAPICategoryFileTimestamp":
        r"\b(creationDate|modificationDate|contentModificationDate|attributesOfItem)\b",
    "NSPrivacyAccessedAPICategoryUserDefaults": r"\bUserDefaults\b",
    "NSPrivacyAccessedAPICategorySystemBootTime": r"\b(systemUptime|mach_absolute_time)\b",
    "NSPrivacyAccessedAPICategoryDiskSpace": r"\b(volumeAvailableCapacity\w*|statfs|statvfs)\b",
    "NSPrivacyAccessedAPICategoryActiveKeyboards": r"\bactiveInputModes\b",
}


def check_collected_data(manifest: dict) -> list[str]:
    """The manifest declares exactly the data types of collected-data.json, the one list of
    every field the core can send (the core's tests check the list against what it sends)."""
    fields = json.loads((SWIFT_DIR / "collected-data.json").read_text())["fields"]
    wanted = {kind for kind in fields.values() if kind}
    entries = manifest.get("NSPrivacyCollectedDataTypes", [])
    declared = {entry.get("NSPrivacyCollectedDataType", "") for entry in entries}
    problems = []
    for kind in sorted(wanted - declared):
        senders = ", ".join(f for f, k in fields.items() if k == kind)
        problems.append(f"the core can send {senders} but the manifest does not declare {kind}")
    for kind in sorted(declared - wanted):
        problems.append(f"the manifest declares {kind}, which no field in collected-data.json is")
    for entry in entries:
        if entry.get("NSPrivacyCollectedDataTypeLinked") is not True:
            problems.append(f"{entry.get('NSPrivacyCollectedDataType')}: must be declared linked to the user")
    return problems


def check_privacy(manifest_path: Path, sources: list[Path]) -> list[str]:
    try:
        manifest = plistlib.loads(manifest_path.read_bytes())
    except Exception as error:  # any parse failure is the finding
        return [f"{manifest_path.name} is not a property list: {error}"]
    problems = []
    if not isinstance(manifest.get("NSPrivacyTracking"), bool):
        problems.append("NSPrivacyTracking must be a boolean")
    # iOS blocks requests to a listed tracking domain while tracking is not authorized: the
    # SDK's own endpoint (the app's relay) must never be one. Apple does not require a domain
    # when NSPrivacyTracking is true.
    if manifest.get("NSPrivacyTrackingDomains"):
        problems.append(
            "NSPrivacyTrackingDomains lists domains: iOS would block the SDK's requests to them "
            "for every user who did not allow tracking"
        )
    problems += check_collected_data(manifest)
    for entry in manifest.get("NSPrivacyCollectedDataTypes", []):
        kind = entry.get("NSPrivacyCollectedDataType", "")
        if not kind.startswith("NSPrivacyCollectedDataType"):
            problems.append(f"collected data type {kind!r} is not an NSPrivacyCollectedDataType value")
        for flag in ("NSPrivacyCollectedDataTypeLinked", "NSPrivacyCollectedDataTypeTracking"):
            if not isinstance(entry.get(flag), bool):
                problems.append(f"{kind}: {flag} must be a boolean")
        purposes = entry.get("NSPrivacyCollectedDataTypePurposes") or []
        if not purposes or not all(p.startswith("NSPrivacyCollectedDataTypePurpose") for p in purposes):
            problems.append(f"{kind}: NSPrivacyCollectedDataTypePurposes must list purposes")
    declared = {}
    for entry in manifest.get("NSPrivacyAccessedAPITypes", []):
        category = entry.get("NSPrivacyAccessedAPIType", "")
        reasons = entry.get("NSPrivacyAccessedAPITypeReasons") or []
        if not reasons or not all(re.fullmatch(r"[0-9A-F]{4}\.\d", r) for r in reasons):
            problems.append(f"{category}: reasons must be codes such as C617.1, got {reasons}")
        declared[category] = reasons
    code = "\n".join(p.read_text() for p in sources)
    for category, pattern in REQUIRED_REASON_APIS.items():
        if re.search(pattern, code) and category not in declared:
            problems.append(f"the Swift code uses a {category} API but the manifest does not declare it")
    package = PACKAGE.read_text()
    if f'.copy("{manifest_path.name}")' not in package and f'.process("{manifest_path.name}")' not in package:
        problems.append(f"Package.swift does not declare {manifest_path.name} as a resource")
    return problems


# ---------------------------------------------------------------------------------------------


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--generated", type=Path, required=True, help="folder with the generated Swift bindings")
    arguments.add_argument("--headers", type=Path, required=True, help="folder with the header and module.modulemap")
    options = arguments.parse_args()

    hand_written = sorted(
        p for p in (SWIFT_DIR / "Sources").rglob("*.swift") if GENERATED not in p.parents
    )
    tests = sorted((SWIFT_DIR / "Tests").rglob("*.swift"))
    bindings = sorted(options.generated.glob("*.swift"))
    manifest = SWIFT_DIR / "Sources" / "AppConversions" / "PrivacyInfo.xcprivacy"

    report = Report()
    report.check("self-test: the parser catches a broken snippet", self_test())
    for path in bindings:
        problems, note = check_syntax(path, generated=True)
        report.check(f"syntax: generated {path.name}", problems, note)
    for path in [PACKAGE, *hand_written, *tests]:
        problems, _ = check_syntax(path, generated=False)
        report.check(f"syntax: {path.relative_to(ROOT)}", problems)
    report.check(f"generated: the committed bindings match the library ({REGENERATE} rewrites them)",
                 check_generated(options.generated))
    report.check("names: uniffi.toml, Package.swift, generated files and scripts agree",
                 check_names(options.generated, options.headers))
    ffi = tomllib.loads((ROOT / "uniffi.toml").read_text())["bindings"]["swift"]["ffi_module_name"]
    report.check(f"release: Package.swift's switch and the Swift version agree with the crate's {crate_version()}",
                 check_release(ffi))
    if bindings:
        api = read_api(bindings[0], [*hand_written, *tests])
        report.check("api: calls, enum members and switch cases match the declarations",
                     check_api([*hand_written, *tests], api),
                     f"{sum(len(m) for m in api.methods.values())} methods, {len(api.inits)} initialisable types")
    report.check("docs: every public declaration has a /// comment", check_docs(hand_written))
    report.check("uikit: UIKit-only symbols only under #if canImport(UIKit) (the macOS runner has no UIKit)",
                 uikit_self_test() + check_uikit_guard(hand_written, tests, SWIFT_DIR))
    report.check("privacy: PrivacyInfo.xcprivacy", check_privacy(manifest, hand_written))

    print(f"swift-checks: {report.passed} passed, {len(report.failed)} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
