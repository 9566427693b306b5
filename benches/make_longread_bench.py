#!/usr/bin/env python3
"""SYNTHETIC long-read modBAM for benches/longread_bench.sh: not real data.

Writes SAM to stdout (pipe it into `samtools view -b`) and the reference FASTA to the path
given: two contigs of random sequence (seeded), and reads of 10-30 kb drawn from them with 1 %
base substitutions, every C called (`C+m?`) with an ML byte drawn from a two-peaked
distribution (methylated 200-255, unmethylated 0-55), half of them reverse-strand records, and
one base quality per read (Q15-Q30), and one read in ten ending in a telomere: 2-12 kb of TTAGGG (read end) or CCCTAA (read start) with
2 % errors, aligned at a contig's first or last base (a chromosome end). A pool of distinct reads is made once and written again and again under new names
and positions until the SAM holds --gigabases of bases (BGZF blocks are compressed on their
own, so repeating a 20 kb read far away does not make the BAM smaller).

usage: make_longread_bench.py REF.fa --gigabases 2.5 [--seed 16] > reads.sam
"""
import argparse
import random
import sys

COMP = str.maketrans("ACGT", "TGCA")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reference")
    ap.add_argument("--gigabases", type=float, default=2.5)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--pool", type=int, default=1500)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    contigs = [("chrB1", 4_000_000), ("chrB2", 3_000_000)]
    seqs = {}
    with open(a.reference, "w") as fa:
        for name, n in contigs:
            s = "".join(rng.choice("ACGT") for _ in range(n))
            seqs[name] = s
            fa.write(f">{name} SYNTHETIC reference (benches/make_longread_bench.py)\n")
            for i in range(0, n, 80):
                fa.write(s[i:i + 80] + "\n")
    out = sys.stdout
    out.write("@HD\tVN:1.6\tSO:unsorted\n")
    for name, n in contigs:
        out.write(f"@SQ\tSN:{name}\tLN:{n}\n")
    out.write("@CO\tSYNTHETIC long reads with MM/ML made by benches/make_longread_bench.py: not real data\n")
    pool = []
    for _ in range(a.pool):
        name, n = rng.choice(contigs)
        length = rng.randint(10_000, 30_000)
        start = rng.randint(0, n - length)
        telomeric = rng.random() < 0.1
        left = rng.random() < 0.5
        if telomeric:
            # A chromosome end: the read starts at the contig's first base (C-rich tract
            # before it) or ends at its last (G-rich tract after it), as telometer expects.
            start = 0 if left else n - length
        body = list(seqs[name][start:start + length])
        for i in range(len(body)):
            if rng.random() < 0.01:
                body[i] = rng.choice("ACGT")
        body = "".join(body)
        reverse = rng.random() < 0.5
        tel = ""
        clip_left = clip_right = 0
        if telomeric:
            units = rng.randint(330, 2000)
            if left:
                tel = "".join(u if rng.random() > 0.02 else rng.choice("ACGT") for u in "CCCTAA" * units)
                body, clip_left = tel + body, len(tel)
            else:
                tel = "".join(u if rng.random() > 0.02 else rng.choice("ACGT") for u in "TTAGGG" * units)
                body, clip_right = body + tel, len(tel)
        cigar = (f"{clip_left}S" if clip_left else "") + f"{length}M" + (f"{clip_right}S" if clip_right else "")
        # Calls on every C of the read as sequenced.
        original = body.translate(COMP)[::-1] if reverse else body
        n_c = original.count("C")
        ml = [rng.randint(200, 255) if rng.random() < 0.7 else rng.randint(0, 55) for _ in range(n_c)]
        mm = "C+m?" + ("," + ",".join(["0"] * n_c) if n_c else "") + ";"
        tags = f"MM:Z:{mm}\tML:B:C," + ",".join(map(str, ml)) if n_c else f"MM:Z:{mm}"
        # Base qualities (telometer needs them): one Phred value per read, Q15-Q30.
        qual = chr(33 + rng.randint(15, 30)) * len(body)
        pool.append((name, start, 16 if reverse else 0, cigar, body, qual, tags))
    written, k = 0, 0
    target = a.gigabases * 1e9
    while written < target:
        name, start, flag, cigar, body, qual, tags = pool[k % len(pool)]
        out.write(f"r{k}\t{flag}\t{name}\t{start + 1}\t60\t{cigar}\t*\t0\t0\t{body}\t{qual}\t{tags}\n")
        written += len(body)
        k += 1
    print(f"{k} reads, {written / 1e9:.2f} Gb", file=sys.stderr)


if __name__ == "__main__":
    main()
