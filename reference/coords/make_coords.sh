#!/usr/bin/env bash
# Rebuilds reference/coords/{hm450_coords,msa_only_hg38}.tsv.gz and copies the two UCSC chains
# from the project's shared data (../shared/data by default; set SHARED to change it).
# Byte-reproducible: LC_ALL=C sorting and `gzip -9n`. See PROVENANCE.md for the sources.
set -euo pipefail
SHARED=${SHARED:-$(dirname "$0")/../../../shared/data}
OUT=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export LC_ALL=C
# hg19 (minfi Locations, 1-based pos = C of the CpG on the + strand), cg probes only.
zcat "$SHARED/array/manifests/hm450_hg19_locations_islands.csv.gz" |
  awk -F, 'NR>1 && $1 ~ /^cg/ {print $1"\t"$2"\t"$3}' | sort -k1,1 >"$TMP/hg19"
# hg38 (InfiniumAnnotation CpG_beg, 0-based: + strand C at CpG_beg+1), cg probes, mapped only.
zcat "$SHARED/coords/HM450.hg38.coord_with_ids.tsv.gz" |
  awk -F'\t' 'NR>1 && $1 ~ /^cg/ && $2!="NA" {print $1"\t"$2"\t"$3+1}' | sort -k1,1 >"$TMP/hg38"
# One row per 450K cg probe, sorted by hg19 position; hg38 as chromosome ("=" when the same)
# and offset from the hg19 position (or the hg38 position itself when hg19 is NA).
{
  printf 'probe\thg19_chr\thg19_pos\thg38_chr\thg38_pos_minus_hg19_pos\n'
  join -t$'\t' -a1 -a2 -e NA -o 0,1.2,1.3,2.2,2.3 "$TMP/hg19" "$TMP/hg38" |
    awk -F'\t' 'BEGIN{OFS="\t"} {c=$4; if($2==$4) c="="; d="NA";
      if($3!="NA" && $5!="NA") d=$5-$3; else if($5!="NA") d=$5; print $1,$2,$3,c,d}' |
    sort -t$'\t' -k2,2 -k3,3n
} | gzip -9n >"$OUT/hm450_coords.tsv.gz"
# MSA probes whose cg ID is not a 450K probe (EPIC-only CpGs), hg38, one position per cg ID
# (suffixes removed; the cg IDs whose replicate probes disagree on the position are left out).
cut -f1 "$TMP/hg19" "$TMP/hg38" | sort -u >"$TMP/known"
zcat "$SHARED/coords/MSA.hg38.coord_with_ids.tsv.gz" |
  awk -F'\t' 'NR>1 && $1 ~ /^cg/ && $2!="NA" {split($1,a,"_"); print a[1]"\t"$2"\t"$3+1}' |
  sort -u >"$TMP/msa"
cut -f1 "$TMP/msa" | uniq -d >"$TMP/dup"
{
  printf 'probe\thg38_chr\thg38_pos\n'
  awk -F'\t' 'FILENAME==ARGV[1]{k[$1]=1;next} FILENAME==ARGV[2]{d[$1]=1;next} !($1 in k) && !($1 in d)' \
    "$TMP/known" "$TMP/dup" "$TMP/msa" | sort -t$'\t' -k2,2 -k3,3n
} | gzip -9n >"$OUT/msa_only_hg38.tsv.gz"
cp "$SHARED/coords/liftover/hg19ToHg38.over.chain.gz" "$SHARED/coords/liftover/hg38ToHg19.over.chain.gz" "$OUT/"
chmod 644 "$OUT"/*.gz
