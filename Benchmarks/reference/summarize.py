"""Print a Markdown table of medians from one or more benchmark JSON-lines files.

Rows are (name, size) pairs and columns are libraries, so records in the same
format from another implementation line up beside the reference numbers.
Uses only the standard library, so any python3 can run it.

Usage: python3 summarize.py results.jsonl [more.jsonl ...]
"""

import json
import sys


def format_cell(record):
    if "median_us" in record:
        text = f"{record['median_us']:.3g} us"
    else:
        text = f"{record['median_ms']:.4g} ms"
    extras = []
    if "gflops" in record:
        extras.append(f"{record['gflops']:.0f} GFLOP/s")
    if "nfe" in record:
        extras.append(f"nfe {record['nfe']}")
    if "compile_s" in record:
        extras.append(f"compile {record['compile_s']:.1f} s")
    if extras:
        text += " (" + ", ".join(extras) + ")"
    return text


def main(paths):
    if not paths:
        sys.exit("usage: summarize.py FILE.jsonl [FILE.jsonl ...]")
    rows = {}
    libraries = []
    for path in paths:
        with open(path) as handle:
            for line_number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    sys.exit(f"{path}:{line_number}: invalid JSON line: {error}")
                library = record["library"]
                if library not in libraries:
                    libraries.append(library)
                key = (record["name"], str(record["size"]))
                rows.setdefault(key, {})[library] = format_cell(record)
    print("| name | size | " + " | ".join(libraries) + " |")
    print("|---|---|" + "---|" * len(libraries))
    for (name, size), cells in rows.items():
        print(f"| {name} | {size} | " + " | ".join(cells.get(library, "") for library in libraries) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
