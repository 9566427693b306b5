"""Peers of `agemark qpcr` (run by tests/suite/peers_qpcr.rs through .ci/run's pinned venvs).

mode `rdml FILE...`: rdmlpython 1.7.2 reads each RDML file; prints one TSV line per reaction
  (plate run id, react id, pcrFormat columns, target, Cq as rdmlpython gives it).
mode `linreg FILE`: rdmlpython's LinRegPCR on an RDML 1.0 file whose react ids are well names:
  the ids are renumbered on a 12-column plate (LinRegPCR needs numeric ids), the document is
  migrated to 1.1, and LinRegPCR runs; prints `well  target  mean_PCR_eff  N0_mean_eff`.
mode `ddct TSV`: the PyPI `qpcr` package's Delta-Delta-Ct (efficiency 2, first group anchored)
  on a well/sample/target/cq table with two targets; prints `sample  fold` for the target
  `c_myc` normalised to `GAPDH`.
"""
import sys


def rdml(files):
    import rdmlpython as r

    import tempfile
    import zipfile

    for f in files:
        z = zipfile.ZipFile(f)
        if "rdml_data.xml" not in z.namelist():
            # rdmlpython reads only a member named rdml_data.xml; Bio-Rad CFX Manager names it
            # after the file. The same bytes under that name.
            tmp = tempfile.NamedTemporaryFile(suffix=".rdml", delete=False)
            with zipfile.ZipFile(tmp.name, "w", zipfile.ZIP_DEFLATED) as out:
                out.writestr("rdml_data.xml", z.read(z.namelist()[0]))
            doc = r.Rdml(tmp.name)
        else:
            doc = r.Rdml(f)
        for exp in doc.experiments():
            runs = exp.runs()
            for run in runs:
                plate = f if len(runs) == 1 and len(doc.experiments()) == 1 else f"{exp['id']}/{run['id']}"
                cols = run["pcrFormat_columns"]
                for react in run.getreactjson()["reacts"]:
                    for d in react["datas"]:
                        print(f"{plate}\t{react['id']}\t{cols}\t{d['tar']}\t{d.get('cq', '')}")


def linreg(path):
    import re
    import tempfile
    import zipfile

    import rdmlpython as r

    xml = zipfile.ZipFile(path).read("rdml_data.xml").decode()

    def num(m):
        w = m.group(1)
        return 'react id="%d"' % ((ord(w[0]) - 65) * 12 + int(w[1:]))

    xml = re.sub(r'react id="([A-H]\d+)"', num, xml)
    tmp = tempfile.NamedTemporaryFile(suffix=".rdml", delete=False)
    with zipfile.ZipFile(tmp.name, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("rdml_data.xml", xml)
    doc = r.Rdml(tmp.name)
    doc.migrate_version_1_0_to_1_1()
    run = doc.experiments()[0].runs()[0]
    run["pcrFormat_columns"] = "12"
    run["pcrFormat_rows"] = "8"
    res = run.linRegPCR(updateRDML=False, saveResultsCSV=True, timeRun=False, verbose=False)
    lines = res["resultsCSV"].splitlines()
    head = lines[0].split("\t")
    i = {h: head.index(h) for h in ("well", "target", "mean PCR eff", "N0 (mean eff)")}
    for line in lines[1:]:
        c = line.split("\t")
        print("\t".join(c[i[h]] for h in ("well", "target", "mean PCR eff", "N0 (mean eff)")))


def ddct(path):
    import pandas as pd
    import qpcr

    t = pd.read_csv(path, sep="\t")
    assays = []
    for target in ("c_myc", "GAPDH"):
        d = t[t.target == target].reset_index(drop=True)
        df = pd.DataFrame({"id": d["sample"], "Ct": d["cq"]})
        assays.append(qpcr.Assay(df, id=target))
    analysed = qpcr.delta_ct(assays)
    norm = qpcr.Normaliser()
    norm.link(assays=[analysed[0]], normalisers=[analysed[1]])
    norm.normalise()
    res = norm.get().get()
    col = [c for c in res.columns if c not in ("group", "group_name", "id", "assay")][0]
    for name, g in res.groupby("group_name"):
        print(f"{name}\t{g[col].mean()}")


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    {"rdml": lambda: rdml(args), "linreg": lambda: linreg(args[0]), "ddct": lambda: ddct(args[0])}[mode]()
