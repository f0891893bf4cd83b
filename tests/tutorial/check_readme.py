#!/usr/bin/env python3
"""Checks that the README quotes tutorial.cpp exactly.

Usage: check_readme.py README.md tutorial.cpp

Every ```cpp block that follows the marker <!-- tutorial.cpp --> in the README
must appear verbatim (as consecutive lines) in tutorial.cpp. Exits 1 and names
the first block that does not; exits 0 with a note when the README has no
tutorial section yet.
"""
import re
import sys

MARKER = "<!-- tutorial.cpp -->"


def main() -> int:
    readme_path, source_path = sys.argv[1], sys.argv[2]
    readme = open(readme_path, encoding="utf-8").read()
    source = open(source_path, encoding="utf-8").read()
    if MARKER not in readme:
        print("README has no tutorial section yet")
        return 0
    section = readme.split(MARKER, 1)[1]
    # The section ends at the next level-2 heading.
    section = re.split(r"^## ", section, maxsplit=1, flags=re.M)[0]
    blocks = re.findall(r"^```cpp\n(.*?)^```", section, flags=re.S | re.M)
    if not blocks:
        print(f"{readme_path}: no ```cpp block after {MARKER}")
        return 1
    for number, block in enumerate(blocks, 1):
        if block not in source:
            first = block.splitlines()[0] if block.strip() else "(empty)"
            print(f"{readme_path}: tutorial block {number} (starting {first!r}) is not in {source_path}")
            return 1
    print(f"{len(blocks)} README blocks found verbatim in {source_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
