"""Fail when pytest skipped a test that the allow-list does not name.

Reads pytest's ``-rs`` summary (``SKIPPED [N] path:line: reason``) from a log and the
allow-list (one ``path | reason substring | why`` per line, ``#`` comments); every skip must
match an allowed entry, and at most MAX_SKIPS tests may skip in all.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

MAX_SKIPS = 3
SKIP = re.compile(r"^SKIPPED \[(\d+)\] ([^:]+):\d+: (.*)$")


def main(log_path: str, allow_path: str) -> int:
    allowed = []
    for line in Path(allow_path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            path, reason, _why = (part.strip() for part in line.split("|", 2))
            allowed.append((path, reason))
    total, bad = 0, []
    for line in Path(log_path).read_text().splitlines():
        m = SKIP.match(line.strip())
        if not m:
            continue
        count, path, reason = int(m.group(1)), m.group(2), m.group(3)
        total += count
        if not any(path.endswith(p) and r in reason for p, r in allowed):
            bad.append(line.strip())
    if bad:
        print("tests skipped that .ci/allowed_skips.txt does not allow:", *bad, sep="\n  ")
        return 1
    if total > MAX_SKIPS:
        print(f"{total} tests skipped; at most {MAX_SKIPS} may")
        return 1
    print(f"skips: {total} (allowed: at most {MAX_SKIPS}, each named in .ci/allowed_skips.txt)")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
