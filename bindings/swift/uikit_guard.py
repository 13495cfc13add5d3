"""The UIKit rule of check_swift.py: UIKit-only symbols appear only under `#if canImport(UIKit)`.

`swift test` on the macOS runner builds the package without UIKit, so a UIKit type used outside
the guard compiles for iOS and breaks the macOS build, which no parse check would notice. The
rule is textual and line-based, which is enough for the way the package writes its guards:

- UIKit-only symbols are the `UI...` types (`UIApplication`, `UIDevice`, `UIResponder`, ...),
  `import UIKit`, and every type declared inside a `#if canImport(UIKit)` block of the sources
  (such as `LifecycleObserver`);
- a line is guarded when an enclosing `#if`/`#elseif` branch tests `canImport(UIKit)` (not its
  `#else`), in the same file;
- comments and string literals are not code: a UIKit name in a `//` comment or in quotes is
  allowed.
"""

from __future__ import annotations

import re
from pathlib import Path

UIKIT_TYPE = re.compile(r"\bUI[A-Z][A-Za-z]+\b")
IMPORT_UIKIT = re.compile(r"^\s*import\s+UIKit\b")
TYPE_DECLARATION = re.compile(r"\b(?:class|struct|enum|protocol|actor)\s+([A-Z]\w*)")
DIRECTIVE = re.compile(r"^\s*#(if|elseif|else|endif)\b(.*)$")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def code_of(line: str) -> str:
    """The line without string literals and without a trailing `//` comment."""
    without_strings = STRING.sub('""', line)
    return without_strings.split("//", 1)[0]


def guarded_lines(lines: list[str]) -> list[bool]:
    """For each line, whether it sits inside a `canImport(UIKit)` branch."""
    stack: list[bool] = []  # per open #if: is the current branch a canImport(UIKit) one
    guarded = []
    for line in lines:
        directive = DIRECTIVE.match(line)
        if directive:
            keyword, condition = directive.groups()
            tests_uikit = "canImport(UIKit)" in condition.replace(" ", "")
            if keyword == "if":
                stack.append(tests_uikit)
            elif keyword == "elseif" and stack:
                stack[-1] = tests_uikit
            elif keyword == "else" and stack:
                stack[-1] = False
            elif keyword == "endif" and stack:
                stack.pop()
            guarded.append(True)  # the directive itself is not code
            continue
        guarded.append(any(stack))
    return guarded


def uikit_only_types(sources: list[Path]) -> set[str]:
    """Types the sources declare only under `#if canImport(UIKit)`."""
    inside, outside = set(), set()
    for path in sources:
        lines = path.read_text().splitlines()
        for line, guarded in zip(lines, guarded_lines(lines)):
            for name in TYPE_DECLARATION.findall(code_of(line)):
                (inside if guarded else outside).add(name)
    return inside - outside


def check_uikit_guard(sources: list[Path], tests: list[Path], root: Path) -> list[str]:
    """Every use of a UIKit-only symbol outside a `canImport(UIKit)` branch, as `file:line`."""
    declared = uikit_only_types(sources)
    declared_use = re.compile(r"\b(" + "|".join(sorted(declared)) + r")\b") if declared else None
    problems = []
    for path in [*sources, *tests]:
        lines = path.read_text().splitlines()
        for number, (line, guarded) in enumerate(zip(lines, guarded_lines(lines)), start=1):
            if guarded:
                continue
            code = code_of(line)
            found = UIKIT_TYPE.findall(code)
            if IMPORT_UIKIT.match(code):
                found.append("import UIKit")
            if declared_use:
                found += declared_use.findall(code)
            if found:
                names = ", ".join(sorted(set(found)))
                problems.append(
                    f"{path.relative_to(root)}:{number}: {names} outside #if canImport(UIKit) "
                    "(the macOS build has no UIKit)"
                )
    return problems


def self_test() -> list[str]:
    """The rule flags an unguarded use and accepts the guarded and commented ones."""
    import tempfile

    problems = []
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "Source.swift"
        source.write_text(
            "#if canImport(UIKit)\nimport UIKit\nfinal class Watcher {}\n#else\nstruct Other {}\n#endif\n"
        )
        test = Path(folder) / "Test.swift"
        test.write_text(
            "// UIApplication in a comment\nlet s = \"UIDevice\"\nlet w = Watcher()\n"
            "#if canImport(UIKit)\nlet state = UIApplication.State.active\n#endif\n"
        )
        found = check_uikit_guard([source], [test], Path(folder))
        if len(found) != 1 or "Test.swift:3: Watcher" not in found[0]:
            problems.append(f"self-test: expected one problem at Test.swift:3, got {found}")
    return problems
