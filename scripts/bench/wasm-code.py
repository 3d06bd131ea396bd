#!/usr/bin/env python3
"""Where the WASM's code goes: each function's size, from the code section and name section
of a WASM built with names (before wasm-bindgen and wasm-opt strip them). twiggy cannot read
the shipped file, which has no names. docs/benchmarks.md ("the WASM a third smaller").

  RUSTFLAGS="--cfg erase_components -C symbol-mangling-version=v0" CARGO_TARGET_DIR=/tmp/wasm-names \\
    cargo build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release
  scripts/bench/wasm-code.py /tmp/wasm-names/wasm32-unknown-unknown/wasm-release/frontend.wasm [N]

Prints the code section's size, the share of each crate, the share of code generic over each
of Haven's modules (a function naming several is split between them) and the N largest
functions. wasm-bindgen's `describe` functions are left out: the CLI runs and removes them.
(RUSTFLAGS replaces .cargo/config.toml's flags, hence `--cfg erase_components` again.)
"""
import collections
import re
import subprocess
import sys


def leb(data, p):
    result = shift = 0
    while True:
        byte = data[p]
        p += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, p


def name(data, p):
    n, p = leb(data, p)
    return data[p : p + n].decode("utf-8", "replace"), p + n


def functions(path):
    """(size, mangled name) of every function body."""
    data = open(path, "rb").read()
    pos, imported, bodies, names = 8, 0, [], {}
    while pos < len(data):
        section, (size, p) = data[pos], leb(data, pos + 1)
        end = p + size
        if section == 2:  # imports: function imports shift the indices of the bodies
            count, q = leb(data, p)
            for _ in range(count):
                _, q = name(data, q)
                _, q = name(data, q)
                kind, q = data[q], q + 1
                if kind == 0:
                    imported += 1
                    _, q = leb(data, q)
                elif kind in (1, 2):
                    if kind == 1:
                        q += 1
                    flags, q = leb(data, q)
                    _, q = leb(data, q)
                    if flags & 1:
                        _, q = leb(data, q)
                else:
                    q += 2
        elif section == 10:
            count, q = leb(data, p)
            for _ in range(count):
                length, start = leb(data, q)
                bodies.append(length + start - q)
                q = start + length
        elif section == 0:
            title, q = name(data, p)
            while title == "name" and q < end:
                sub, (length, q) = data[q], leb(data, q + 1)
                if sub == 1:
                    count, r = leb(data, q)
                    for _ in range(count):
                        index, r = leb(data, r)
                        names[index], r = name(data, r)
                q += length
        pos = end
    return [(size, names.get(i + imported, "?")) for i, size in enumerate(bodies)]


def main():
    rows = functions(sys.argv[1])
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    plain = subprocess.run(["c++filt"], input="\n".join(n for _, n in rows), capture_output=True, text=True).stdout.split("\n")
    rows = [(size, re.sub(r"\[[0-9a-f]{16}\]", "", text)) for (size, _), text in zip(rows, plain)]
    rows = [(size, text) for size, text in rows if not text.endswith("::describe")]
    print(f"code: {sum(s for s, _ in rows):,} bytes in {len(rows):,} functions")
    crates = collections.Counter()
    modules = collections.Counter()
    for size, text in rows:
        first = re.search(r"[a-z_][a-z0-9_]*(?=::)", text)
        crates[first.group(0) if first else "?"] += size
        found = set(re.findall(r"app::(\w+(?:::\w+)?)", text))
        for module in found:
            modules[module] += size / len(found)
    print("\nby crate (the function's own path):")
    for crate, size in crates.most_common(20):
        print(f"{size:10,} {crate}")
    print(f"\ngeneric over Haven's modules: {int(sum(modules.values())):,} in all")
    for module, size in modules.most_common(20):
        print(f"{int(size):10,} {module}")
    print(f"\nthe {top} largest functions:")
    for size, text in sorted(rows, reverse=True)[:top]:
        print(f"{size:10,} {text[:150]}")


if __name__ == "__main__":
    main()
