#!/usr/bin/env python3
"""Keeps the code base's shape: no production source under services/ or
common/ over 700 lines, no function over 80 (tests, benches and generated
code aside). Crowded files and long functions are where the cost of the
next feature hides (issue #16); this check stops them growing back.

Usage: check_structure.py [--root DIR] [--list]
  --list  print every file and function with its size, largest first.
Exits 1 and names each offender when a limit is passed.

The function finder is a brace counter over the source with comments,
strings and character literals blanked: a block opened at namespace or
class level whose head ends in `)` (with optional qualifiers) is a
function; lambdas and local blocks count towards the function holding
them.
"""
import argparse
import os
import re
import sys

MAX_FILE_LINES = 700
MAX_FUNCTION_LINES = 80
SOURCE_SUFFIXES = (".cc", ".h")
SKIPPED = re.compile(r"(_test\.cc$|_test\.h$|test_support\.h$|_bench\.cc$)")

CONTROL = re.compile(r"\b(if|for|while|switch|catch|do|else)\s*(\(|$)")
QUALIFIERS = re.compile(
    r"\)\s*((const|override|final|noexcept|mutable|volatile|&|&&)\s*)*"
    r"(->\s*[\w:<>,\s*&]+)?\s*$")
CONTAINER = re.compile(r"\b(namespace|class|struct|union|enum)\b")


def blank_comments_and_strings(text):
    """Replaces comments and literals by spaces, keeping newlines."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "R" and text.startswith('R"', i) and (
                i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            delim_end = text.find("(", i + 2)
            delim = text[i + 2:delim_end]
            close = ")" + delim + '"'
            j = text.find(close, delim_end)
            j = n if j < 0 else j + len(close)
            out.append('""' + re.sub(r"[^\n]", " ", text[i + 2:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * max(0, j - i - 2) + c if j - i >= 2 else c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions_of(text):
    """Yields (name, first line, line count) of each function body."""
    code = blank_comments_and_strings(text)
    stack = []  # kinds of the open blocks: "container", "function", "other"
    head_start = 0  # offset where the current statement's head begins
    for pos, c in enumerate(code):
        if c == "{":
            head = code[head_start:pos]
            inside_function = "function" in stack
            kind = "other"
            if not inside_function:
                flat = " ".join(head.split())
                if CONTAINER.search(flat) and not flat.endswith(")"):
                    kind = "container"
                elif (QUALIFIERS.search(flat) and not CONTROL.search(flat)
                      and not flat.startswith("=")):
                    kind = "function"
                elif flat.startswith("extern"):
                    kind = "container"
            if kind == "function":
                start_line = code.count("\n", 0, head_start) + 1
                # The signature starts at its first non-blank line.
                skipped = len(head) - len(head.lstrip())
                start_line = code.count("\n", 0, head_start + skipped) + 1
                name_match = re.search(r"([\w:~<>]+)\s*\(", head)
                name = name_match.group(1) if name_match else "?"
                stack.append(("function", start_line, name))
            else:
                stack.append((kind, 0, ""))
            head_start = pos + 1
        elif c == "}":
            if stack:
                kind, start_line, name = stack.pop()
                if kind == "function":
                    end_line = code.count("\n", 0, pos) + 1
                    yield name, start_line, end_line - start_line + 1
            head_start = pos + 1
        elif c == ";":
            head_start = pos + 1
        elif c == ":" and not stack or (
                c == ":" and stack and stack[-1][0] == "container"):
            # `public:` and friends end a head; `a::b` does not.
            before = code[head_start:pos].strip()
            if before in ("public", "private", "protected"):
                head_start = pos + 1


def production_sources(root):
    for top in ("services", "common"):
        for folder, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                if name.endswith(SOURCE_SUFFIXES) and not SKIPPED.search(name):
                    yield os.path.join(folder, name)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    root = os.path.normpath(args.root)
    offences, sizes = [], []
    for path in production_sources(root):
        with open(path, encoding="utf-8") as source:
            text = source.read()
        relative = os.path.relpath(path, root)
        lines = text.count("\n")
        sizes.append((lines, relative))
        if lines > MAX_FILE_LINES:
            offences.append(f"{relative}: {lines} lines (limit "
                            f"{MAX_FILE_LINES})")
        for name, line, count in functions_of(text):
            sizes.append((count, f"{relative}:{line} {name}"))
            if count > MAX_FUNCTION_LINES:
                offences.append(f"{relative}:{line}: function {name} is "
                                f"{count} lines (limit {MAX_FUNCTION_LINES})")
    if args.list:
        for count, what in sorted(sizes, reverse=True):
            print(f"{count:6d} {what}")
    for offence in offences:
        print(offence)
    if offences:
        print(f"check_structure: {len(offences)} over the limits")
        return 1
    print("check_structure: every file and function within the limits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
