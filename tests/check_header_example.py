#!/usr/bin/env python3
"""Checks that a test quotes a code example of a header comment verbatim.

Usage: check_header_example.py HEADER SOURCE FIRST

The example is the run of comment lines indented as code ("//   " and more) in
HEADER that starts with the line containing FIRST. Its lines must appear in SOURCE as
consecutive lines, compared without their leading and trailing spaces and with
blank lines ignored on both sides, so that the example in the header is code that
compiles and runs. Exits 1 naming the first line that is not quoted.
"""
import sys

CODE = "//   "


def example(header_lines, first):
    block = []
    for line in header_lines:
        if not block and not (line.startswith(CODE) and first in line):
            continue
        if not line.startswith(CODE):
            break  # the example ends at the first line not indented as code
        block.append(line[len(CODE):].strip())
    return block


def main() -> int:
    header_path, source_path, first = sys.argv[1], sys.argv[2], sys.argv[3]
    block = example(open(header_path, encoding="utf-8").read().splitlines(), first)
    if not block:
        print(f"{header_path}: no comment line indented as code contains {first!r}")
        return 1
    source = [l.strip() for l in open(source_path, encoding="utf-8").read().splitlines() if l.strip()]
    for start in range(len(source) - len(block) + 1):
        if source[start:start + len(block)] == block:
            print(f"{header_path}: the example ({len(block)} lines) starting {first!r} is quoted in {source_path}")
            return 0
    # Name the first line that has no match, for the reader of the failure.
    missing = next((l for l in block if l not in source), "(the lines are there, but not consecutive)")
    print(f"{header_path}: the example is not quoted in {source_path}; first missing line: {missing}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
