#!/usr/bin/env python3
"""make_idat_bench.py - SYNTHETIC 450K-sized IDAT pairs for benches/idat_bench.sh.

NOT REAL DATA. Writes N pairs <barcode>_R0xC0y_{Grn,Red}.idat (IDAT v3, 622,399 addresses
each, as a real HumanMethylation450 IDAT) into OUTDIR. The addresses and designs come from the
bundled 450K manifest (reference/arrays/hm450_manifest_probes.csv.gz); the remaining addresses
(controls and unused beads on a real chip) are filled up to 622,399. Signals: each probe gets a
beta drawn from a bimodal mixture; in-band M = bg + beta * total, U = bg + (1 - beta) * total
(total 2,000-12,000), out-of-band and filler addresses a background of ~300. Samples differ by
noise in the 6 low bits of every mean (XOR with seeded random bytes), so every file is distinct.

Standard library only (no numpy). Usage: make_idat_bench.py OUTDIR [--samples 100] [--seed 1]
"""
import argparse
import array
import csv
import gzip
import os
import random
import struct
import sys

N_ADDRESSES = 622_399


def dotnet_string(s):
    b = s.encode()
    n = len(b)
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            break
    return bytes(out) + b


def idat_bytes(ids_bytes, means_bytes, sds_bytes, nbeads_bytes, n, barcode):
    """IDAT v3 with the fields agemark's and methylprep's parsers read."""
    fields = []  # (code, payload)
    fields.append((1000, struct.pack("<i", n)))
    fields.append((102, ids_bytes))
    fields.append((103, sds_bytes))
    fields.append((104, means_bytes))
    fields.append((107, nbeads_bytes))
    fields.append((200, struct.pack("<i", n) + ids_bytes))
    run = b"".join(dotnet_string(s) for s in ("1/1/2026 0:00:00 AM", "Scan", "SYNTHETIC", "make_idat_bench.py", "1"))
    fields.append((300, struct.pack("<i", 1) + run))
    fields.append((400, struct.pack("<i", 0)))
    fields.append((401, dotnet_string("")))
    fields.append((402, dotnet_string(barcode)))
    fields.append((403, dotnet_string("BeadChip 12x8 SYNTHETIC")))
    fields.append((404, dotnet_string("A")))
    header = b"IDAT" + struct.pack("<qi", 3, len(fields))
    offset = len(header) + 10 * len(fields)
    table = bytearray()
    body = bytearray()
    for code, payload in fields:
        table += struct.pack("<Hq", code, offset + len(body))
        body += payload
    return header + bytes(table) + bytes(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rng = random.Random(a.seed)
    grn, red = {}, {}

    def bg():
        return max(20.0, rng.gauss(300, 80))

    with gzip.open(os.path.join(repo, "reference/arrays/hm450_manifest_probes.csv.gz"), "rt") as f:
        for row in csv.DictReader(f):
            beta = rng.betavariate(0.3, 0.3)
            total = rng.uniform(2000, 12000)
            m = bg() + beta * total
            u = bg() + (1 - beta) * total
            a_id = int(row["AddressA_ID"])
            if row["Infinium_Design_Type"] == "II":
                grn[a_id], red[a_id] = m, u
            else:
                b_id = int(row["AddressB_ID"])
                inband, oob = (red, grn) if row["Color_Channel"] == "Red" else (grn, red)
                inband[a_id], inband[b_id] = u, m
                oob[a_id], oob[b_id] = bg(), bg()
    addr = 10_000_000
    while len(grn) < N_ADDRESSES:
        addr += 7
        if addr not in grn:
            grn[addr], red[addr] = bg(), bg()
    ids = sorted(grn)
    n = len(ids)
    assert n == N_ADDRESSES, n
    ids_bytes = array.array("i", ids).tobytes()
    clamp = lambda v: min(65535, max(0, int(round(v))))
    g_bytes = array.array("H", (clamp(grn[i]) for i in ids)).tobytes()
    r_bytes = array.array("H", (clamp(red[i]) for i in ids)).tobytes()
    sds = array.array("H", (rng.randrange(50, 400) for _ in ids)).tobytes()
    beads = bytes(rng.randrange(6, 20) for _ in ids)
    if sys.byteorder != "little":
        sys.exit("little-endian machine needed")
    mask = int.from_bytes(b"\x3f\x00" * n, "little")
    os.makedirs(a.outdir, exist_ok=True)
    for s in range(a.samples):
        barcode = f"{200000000000 + s // 12}"
        name = f"{barcode}_R{(s % 12) // 2 + 1:02d}C{s % 2 + 1:02d}"
        for channel, base in (("Grn", g_bytes), ("Red", r_bytes)):
            noise = int.from_bytes(rng.randbytes(2 * n), "little") & mask
            means = (int.from_bytes(base, "little") ^ noise).to_bytes(2 * n, "little")
            path = os.path.join(a.outdir, f"{name}_{channel}.idat")
            with open(path + ".tmp", "wb") as f:
                f.write(idat_bytes(ids_bytes, means, sds, beads, n, barcode))
            os.replace(path + ".tmp", path)
    print(f"wrote {a.samples} SYNTHETIC 450K-sized IDAT pairs ({n} addresses) to {a.outdir}", file=sys.stderr)


if __name__ == "__main__":
    main()
