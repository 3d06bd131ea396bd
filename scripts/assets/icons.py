#!/usr/bin/env python3
"""Draws Haven's app icons (public/icons/*.png) without any image library: a white roof
over a door on Haven's accent green. Run from the repository root; the output is committed."""
import struct
import zlib

ACCENT = (0x2F, 0x6B, 0x55)
WHITE = (0xFF, 0xFF, 0xFF)


def inside(x, y, size, inset):
    """Whether pixel (x, y) is white: a house shape within the square shrunk by `inset`."""
    u = (x + 0.5) / size
    v = (y + 0.5) / size
    scale = 1 - 2 * inset
    u = (u - inset) / scale
    v = (v - inset) / scale
    # Roof: a triangle from (0.2, 0.48) up to (0.5, 0.2) down to (0.8, 0.48).
    if 0.2 <= v <= 0.48 and abs(u - 0.5) <= (v - 0.2) / 0.28 * 0.3:
        return True
    # Walls with a door cut out.
    if 0.28 <= u <= 0.72 and 0.48 <= v <= 0.8:
        return not (0.44 <= u <= 0.56 and 0.6 <= v <= 0.8)
    return False


def png(size, inset, rounded):
    rows = []
    radius = size * 0.18
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            # Outside the rounded corners: transparent.
            cx = min(max(x + 0.5, radius), size - radius)
            cy = min(max(y + 0.5, radius), size - radius)
            outside = rounded and (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 > radius**2
            if outside:
                row += bytes((0, 0, 0, 0))
            else:
                row += bytes((*(WHITE if inside(x, y, size, inset) else ACCENT), 255))
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


for name, size, inset, rounded in [
    ("haven-192.png", 192, 0.0, True),
    ("haven-512.png", 512, 0.0, True),
    # Maskable: full bleed, the drawing inside the central safe zone.
    ("haven-maskable-512.png", 512, 0.12, False),
]:
    with open(f"public/icons/{name}", "wb") as f:
        f.write(png(size, inset, rounded))
