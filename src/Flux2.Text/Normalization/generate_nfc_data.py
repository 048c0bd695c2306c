"""Writes nfc-data.bin, the Unicode tables Nfc.cs needs, from Python's unicodedata.

Run: python3 generate_nfc_data.py   (the Unicode version is that of the Python build; 14.0.0 for Python 3.11)

Layout, all little-endian uint32:
  version (major << 16 | minor << 8 | micro)
  n, then n entries  code_point << 8 | canonical_combining_class   (non-zero classes only)
  m, then m entries  code_point, first, second (0 = singleton), 1 if the pair composes back to code_point else 0
"""
import struct
import sys
import unicodedata

combining = []
decompositions = []
for cp in range(0x110000):
    ch = chr(cp)
    ccc = unicodedata.combining(ch)
    if ccc:
        combining.append(cp << 8 | ccc)
    d = unicodedata.decomposition(ch)
    if not d or d.startswith("<"):
        continue  # none, or a compatibility mapping (NFC uses canonical ones only)
    parts = [int(p, 16) for p in d.split()]
    first, second = parts[0], parts[1] if len(parts) == 2 else 0
    # A primary composite is one NFC keeps: excluded, singleton and non-starter decompositions are not recomposed.
    composes = 1 if len(parts) == 2 and unicodedata.normalize("NFC", ch) == ch else 0
    decompositions.append((cp, first, second, composes))

major, minor, micro = (int(x) for x in unicodedata.unidata_version.split("."))
out = [major << 16 | minor << 8 | micro, len(combining), *combining, len(decompositions)]
for entry in decompositions:
    out.extend(entry)
with open(sys.argv[1] if len(sys.argv) > 1 else "nfc-data.bin", "wb") as f:
    f.write(struct.pack("<%dI" % len(out), *out))
print(f"Unicode {unicodedata.unidata_version}: {len(combining)} combining classes, {len(decompositions)} decompositions")
