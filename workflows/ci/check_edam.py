#!/usr/bin/env python3
"""Checks every EDAM term that agemark's workflow descriptions name against EDAM itself (the
`edam-ontology` package's EDAM.tsv, no network): it must exist, be a format and not be obsolete;
where a Nextflow meta.yml line says what the term is (`# TSV`), EDAM's preferred label must agree.

    python check_edam.py REPO      (run by workflows/ci/run-workflows.sh edam-terms)
"""
import csv
import re
import sys
from pathlib import Path

from edam_ontology import __version__ as EDAM_VERSION
from edam_ontology.streams import tabular_stream

EDAM = "http://edamontology.org/"
repo = Path(sys.argv[1])
with tabular_stream() as f:
    terms = {r["Class ID"]: r for r in csv.DictReader(f, delimiter="\t")}

files = sorted(repo.glob("workflows/cwl/*.cwl")) + sorted(repo.glob("workflows/cwl/*.py"))
files += sorted(repo.glob("workflows/nextflow/modules/local/agemark/*/meta.yml"))
used, problems = {}, []
for path in files:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for m in re.finditer(r"(?:edam:|edamontology\.org/|\")(format_\d{4})\b", line):
            iri = EDAM + m.group(1)
            where = f"{path.relative_to(repo)}:{n}"
            used.setdefault(iri, []).append(where)
            row = terms.get(iri)
            if row is None:
                problems.append(f"{where}: {iri} is not in EDAM {EDAM_VERSION}")
                continue
            if row["Obsolete"].upper() == "TRUE":
                problems.append(f"{where}: {iri} ({row['Preferred Label']}) is obsolete in EDAM {EDAM_VERSION}")
            said = re.search(r"# (.+)$", line)
            if said and path.suffix == ".yml" and not said.group(1).startswith(row["Preferred Label"]):
                problems.append(f"{where}: {iri} is '{row['Preferred Label']}' in EDAM, not '{said.group(1)}'")
if not used:
    problems.append("no EDAM format found in the workflow descriptions")
for iri, wheres in sorted(used.items()):
    print(f"{iri.removeprefix(EDAM)}  {terms.get(iri, {}).get('Preferred Label', '?'):<16} {len(wheres):>3} uses")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"EDAM {EDAM_VERSION}: {len(used)} formats, {sum(map(len, used.values()))} uses, all current formats")
