#!/usr/bin/env python3
"""Checks that the code snippets in the documentation match the compiled examples they come from.

A snippet is a fenced code block in README.md or docs/*.md preceded by an HTML comment naming its source:

    <!-- snippet: examples/routing/main.cpp#routes -->
    ```cpp
    ...
    ```

Its content must equal the lines between the two `// [routes]` marker lines of that file, with the marker
lines excluded, any other marker lines inside the region dropped, and the common indentation stripped.
Trailing whitespace and leading or trailing blank lines are ignored.

Usage: check_snippets.py [PROJECT_ROOT]   (default: the repository this script lives in)
Exit status: 0 when every snippet matches, 1 otherwise (each problem is printed with a diff), 2 for bad usage.
"""

import difflib
import pathlib
import re
import sys
import textwrap

SNIPPET_RE = re.compile(r"^\s*<!--\s*snippet:\s*(?P<path>[^#\s]+)#(?P<marker>[A-Za-z0-9_.-]+)\s*-->\s*$")
FENCE_RE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})")
MARKER_RE = re.compile(r"^\s*//\s*\[(?P<name>[A-Za-z0-9_.-]+)\]\s*$")


class Problem(Exception):
    pass


def normalise(lines):
    """Strips trailing whitespace, surrounding blank lines and the common indentation."""
    lines = [line.rstrip() for line in lines]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return textwrap.dedent("\n".join(lines)).split("\n") if lines else []


def region(root, rel_path, marker):
    """The lines between the two `// [marker]` lines of `rel_path`, other marker lines dropped."""
    source = root / rel_path
    if not source.is_file():
        raise Problem(f"source file '{rel_path}' does not exist")
    lines = source.read_text(encoding="utf-8").split("\n")
    at = [i for i, line in enumerate(lines) if (m := MARKER_RE.match(line)) and m.group("name") == marker]
    if not at:
        raise Problem(f"marker '// [{marker}]' does not exist in '{rel_path}'")
    if len(at) != 2:
        raise Problem(f"marker '// [{marker}]' appears {len(at)} times in '{rel_path}'; it must open and close "
                      f"exactly one region")
    body = [line for line in lines[at[0] + 1:at[1]] if not MARKER_RE.match(line)]
    return normalise(body)


def snippets(doc):
    """Yields (line number, path, marker, block lines) for each snippet comment in `doc`."""
    lines = doc.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        m = SNIPPET_RE.match(lines[i])
        if not m:
            if "<!-- snippet:" in lines[i]:
                yield i + 1, "?", "?", Problem("malformed snippet comment; write "
                                               "<!-- snippet: path/to/file.cpp#marker -->")
            i += 1
            continue
        start = i + 1
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        fence = FENCE_RE.match(lines[j]) if j < len(lines) else None
        if not fence:
            yield start, m.group("path"), m.group("marker"), Problem("the snippet comment is not followed by a "
                                                                     "fenced code block")
            i = j
            continue
        close = fence.group("fence")
        k = j + 1
        while k < len(lines) and lines[k].strip() != close:
            k += 1
        if k >= len(lines):
            yield start, m.group("path"), m.group("marker"), Problem("the code block is never closed")
            return
        yield start, m.group("path"), m.group("marker"), normalise(lines[j + 1:k])
        i = k + 1


def main(argv):
    if len(argv) == 2 and argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if len(argv) > 2:
        print("usage: check_snippets.py [PROJECT_ROOT]", file=sys.stderr)
        return 2
    root = pathlib.Path(argv[1] if len(argv) == 2 else pathlib.Path(__file__).resolve().parents[2]).resolve()
    docs = sorted((root / "docs").glob("*.md"))
    if (root / "README.md").is_file():
        docs.insert(0, root / "README.md")
    if not docs:
        print("check_snippets: no README.md or docs/*.md under the project root", file=sys.stderr)
        return 1

    failures = 0
    checked = 0
    for doc in docs:
        name = doc.relative_to(root).as_posix()
        for line, path, marker, block in snippets(doc):
            where = f"{name}:{line}: snippet {path}#{marker}"
            try:
                if isinstance(block, Problem):
                    raise block
                expected = region(root, path, marker)
            except Problem as e:
                print(f"{where}: {e}", file=sys.stderr)
                failures += 1
                continue
            checked += 1
            if block != expected:
                failures += 1
                diff = difflib.unified_diff(expected, block, fromfile=f"{path}#{marker} (compiled source)",
                                            tofile=f"{name}:{line} (documentation)", lineterm="")
                print(f"{where}: the documented code differs from the source; update the block to match:",
                      file=sys.stderr)
                print("\n".join(diff), file=sys.stderr)

    if failures:
        print(f"check_snippets: {failures} problem(s) in {checked + failures} snippet(s)", file=sys.stderr)
        return 1
    print(f"check_snippets: {checked} snippet(s) in {len(docs)} file(s) match their sources")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
