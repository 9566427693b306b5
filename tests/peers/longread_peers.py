#!/usr/bin/env python3
"""Peer answers for the long-read tests (issue 16), run by tests/suite/peers_longreads.rs.

  modbases SAM...          every call pysam's AlignedSegment.modified_bases gives, one per line:
                           file, record, read, base, strand, code, seq_pos, ML byte
  pileup SAM FASTA THRESH  a modkit-style CpG pileup written here on pysam (modified_bases +
                           get_aligned_pairs; counting rules of modkit's bedMethyl, as
                           pipeline/modpileup.rs states them): chrom, pos, strand, N_mod,
                           N_canonical, N_other, N_fail, N_diff, N_nocall
  telometer FASTA.gz       telometer's own region finder on each read (see telometer() for the
                           one step FASTA cannot feed): read, start, end, length (0: none)

pysam and telometer come from the pinned venv .ci/run makes (AGEMARK_TELOMETER_PYTHON).
"""
import gzip
import sys

import pysam


def modbases(paths):
    for f in paths:
        with pysam.AlignmentFile(f, "r", check_sq=False) as s:
            for i, r in enumerate(s.fetch(until_eof=True)):
                for (base, strand, code), calls in sorted((r.modified_bases or {}).items(), key=str):
                    for pos, q in calls:
                        print(f"{f}\t{i + 1}\t{r.query_name}\t{base}\t{strand}\t{code}\t{pos}\t{q}")


def read_fasta(path):
    seqs, name = {}, None
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as fh:
        for line in fh:
            line = line.strip()
            if line.startswith(">"):
                name = line[1:].split()[0]
                seqs[name] = []
            elif name is not None:
                seqs[name].append(line.upper())
    return {k: "".join(v) for k, v in seqs.items()}


def mm_modes(r):
    """Per (base, strand char) of MM: True when implicit ('.' or no mode)."""
    tag = None
    for t in ("MM", "Mm"):
        if r.has_tag(t):
            tag = r.get_tag(t)
            break
    modes = {}
    if not tag:
        return modes
    for entry in tag.rstrip(";").split(";"):
        head = entry.split(",")[0]
        base, strand = head[0], head[1]
        explicit = head.endswith("?")
        modes[(base, strand)] = modes.get((base, strand), False) or not explicit
    return modes


def pileup(sam, fasta, threshold):
    ref = read_fasta(fasta)
    counts = {}
    comp = {"A": "T", "C": "G", "G": "C", "T": "A"}
    with pysam.AlignmentFile(sam, "r", check_sq=False) as s:
        for r in s.fetch(until_eof=True):
            if r.is_unmapped or r.is_secondary or r.is_supplementary or r.is_qcfail:
                continue
            chrom = r.reference_name
            seq = ref[chrom]
            q = r.query_sequence.upper()
            # Calls by (seq position, reference strand the modified C is on).
            calls = {}
            covered, implicit = set(), set()
            for (base, strand, code), lst in (r.modified_bases or {}).items():
                # pysam: strand 0/1 is MM's +/- flipped for reverse records, base as in MM.
                mm_strand = "+" if (strand == 1) == r.is_reverse else "-"
                if (base, mm_strand) == ("C", "+"):
                    minus = r.is_reverse
                elif (base, mm_strand) == ("G", "-"):
                    minus = not r.is_reverse
                else:
                    continue
                covered.add(minus)
                for pos, ml in lst:
                    calls.setdefault((pos, minus), {})[code] = max(
                        calls.get((pos, minus), {}).get(code, 0.0), (ml + 0.5) / 256
                    )
            for (base, st), imp in mm_modes(r).items():
                if (base, st) == ("C", "+"):
                    minus = r.is_reverse
                elif (base, st) == ("G", "-"):
                    minus = not r.is_reverse
                else:
                    continue
                covered.add(minus)
                if imp:
                    implicit.add(minus)
            if not covered:
                covered.add(r.is_reverse)
            for qp, rp in r.get_aligned_pairs(matches_only=True):
                for minus in (False, True):
                    if minus not in covered:
                        continue
                    site = rp >= 1 and seq[rp - 1:rp + 1] == "CG" if minus else seq[rp:rp + 2] == "CG"
                    if not site:
                        continue
                    key = (chrom, rp, "-" if minus else "+")
                    c = counts.setdefault(key, [0, 0, 0, 0, 0, 0])  # mod, can, other, fail, diff, nocall
                    want = "G" if minus else "C"
                    if q[qp] != want:
                        c[4] += 1
                        continue
                    probs = calls.get((qp, minus))
                    if probs:
                        pm = probs.get("m", 0.0)
                        ph = probs.get("h", 0.0)
                        po = sum(v for k, v in probs.items() if k not in ("m", "h"))
                        pc = max(0.0, 1.0 - pm - ph - po)
                        states = [("can", pc), ("m", pm), ("h", ph), ("o", po)]
                        best, p = states[0]
                        for st, v in states[1:]:
                            if v > p:
                                best, p = st, v
                        if p < threshold:
                            c[3] += 1
                        elif best == "m":
                            c[0] += 1
                        elif best == "can":
                            c[1] += 1
                        else:
                            c[2] += 1
                    elif minus in implicit:
                        c[1] += 1
                    else:
                        c[5] += 1
    for (chrom, pos, strand), c in sorted(counts.items()):
        if c[0] + c[1] + c[2] > 0:
            print(f"{chrom}\t{pos}\t{strand}\t" + "\t".join(map(str, [c[0], c[1], c[2], c[3], c[4], c[5]])))


def telometer(path):
    """telometer's region finder on each read, without its base-quality steps.

    FASTA has no base qualities, and telometer's last step (check_gap) merges the regions
    across any gap whose qualities show no drop: with no qualities every gap would merge. So
    this runs telometer's own identify_telomere_regions (120-bp windows, 12-bp steps, density
    0.1, fuzzy re-check of gaps) with a constant Q30 (so no gap is skipped for low quality) and
    applies its terminal-region rule (a region starting in the first 100 bases or ending in the
    last 100, the first one kept) and its 0.75 dense-window requirement, as
    measure_telomere_length does, without check_gap.
    """
    from telometer.telometer import get_telomere_repeats, identify_telomere_regions

    motifs = get_telomere_repeats()
    for name, seq in read_fasta(path).items():
        regions, densities, _, _ = identify_telomere_regions(seq, [30] * len(seq), motifs)
        start = end = 0
        if regions and any(d >= 0.75 for d in densities):
            ends = [(a, b) for a, b in regions if a < 100 or b > len(seq) - 100]
            if ends:
                a, b = ends[0]
                if any(d >= 0.75 and a <= j * 12 and j * 12 + 120 <= b for j, d in enumerate(densities)):
                    start, end = a, b
        print(f"{name}\t{start}\t{end}\t{end - start}")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "modbases":
        modbases(args)
    elif cmd == "pileup":
        pileup(args[0], args[1], float(args[2]))
    elif cmd == "telometer":
        telometer(args[0])
    else:
        sys.exit(f"unknown command {cmd}")
