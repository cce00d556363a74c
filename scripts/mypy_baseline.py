"""Run mypy (configuration in pyproject.toml) and compare its errors with the committed baseline
``mypy-baseline.txt``: any error not in the baseline fails; errors fixed since are reported so the
baseline can shrink (``--update`` rewrites it, and refuses to let it grow).

An error is keyed by file, error code and message, without its line number, so unrelated edits
that move lines do not count as new errors; the baseline holds how often each key occurs.

    python scripts/mypy_baseline.py            # check (make test)
    python scripts/mypy_baseline.py --update   # after fixing errors: write the smaller baseline
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "mypy-baseline.txt"
ERROR = re.compile(r"^(?P<path>[^:]+):\d+(?::\d+)?: error: (?P<message>.*?)\s+\[(?P<code>[a-z-]+)\]$")


def run_mypy() -> tuple[Counter[str], str]:
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    if result.returncode not in (0, 1):  # 2 = mypy itself failed (bad configuration, crash)
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"mypy could not run (exit {result.returncode})")
    keys: Counter[str] = Counter()
    for line in result.stdout.splitlines():
        match = ERROR.match(line)
        if match:
            keys[f"{match['path']}\t[{match['code']}]\t{match['message']}"] += 1
    return keys, result.stdout


def read_baseline() -> Counter[str]:
    counts: Counter[str] = Counter()
    if BASELINE.exists():
        for line in BASELINE.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                count, key = line.split("\t", 1)
                counts[key] = int(count)
    return counts


def write_baseline(counts: Counter[str]) -> None:
    lines = ["# mypy errors that existed when the type check was introduced (issue #11). This list may only",
             "# shrink: fix errors, then run `python scripts/mypy_baseline.py --update`.",
             "# count<TAB>file<TAB>code<TAB>message"]
    lines += [f"{n}\t{key}" for key, n in sorted(counts.items())]
    BASELINE.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite the baseline (it may only shrink)")
    args = parser.parse_args()
    current, output = run_mypy()
    baseline = read_baseline()
    new = current - baseline
    fixed = baseline - current
    if args.update:
        if new and BASELINE.exists():
            print("refusing to grow the baseline; new errors:")
            for key, n in sorted(new.items()):
                print(f"  {n} × {key}")
            return 1
        write_baseline(current)
        print(f"mypy baseline: {sum(current.values())} errors ({sum(fixed.values())} fewer)")
        return 0
    if new:
        print("mypy: errors not in mypy-baseline.txt (fix them; the baseline never grows):")
        wanted = {key.split("\t")[0] for key in new}
        for line in output.splitlines():
            match = ERROR.match(line)
            if match and match["path"] in wanted and \
                    f"{match['path']}\t[{match['code']}]\t{match['message']}" in new:
                print("  " + line)
        return 1
    print(f"mypy: no new errors ({sum(current.values())} known in mypy-baseline.txt"
          + (f", {sum(fixed.values())} fixed: run scripts/mypy_baseline.py --update" if fixed else "") + ")")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
