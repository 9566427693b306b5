//! The IDAT reader side by side with methylprep 1.7.1's parser (`methylprep.files.IdatDataset`,
//! pip) on the real HM27 IDATs (tests/data/array/hm27_idat, the same files as
//! `../shared/data/array/hm27_idat`): every address, its mean intensity, SD and bead count must
//! be equal, and so must the barcode, chip type and the run-info entries.
//!
//! methylprep's preprocessing (and so its betas) cannot run here: it downloads its manifests
//! from a remote bucket at run time, which CI cannot reach; there are no published betas for
//! these two TCGA samples in the shared data. The betas are checked instead on SYNTHETIC arrays
//! with known betas (tests/idat_cli.rs).
//!
//! Ignored by default: it needs Python 3 with methylprep 1.7.1 (`.ci/run` installs it into its
//! own venv and sets AGEMARK_METHYLPREP_PYTHON). A missing peer makes the test fail with a
//! message, never pass silently.

use std::{path::PathBuf, process::Command};

use crate::common::{peer_python, repo};

fn python() -> PathBuf {
    peer_python(
        "methylprep",
        "AGEMARK_METHYLPREP_PYTHON",
        "pip install methylprep==1.7.1 into that venv",
    )
}

const SCRIPT: &str = r##"
import sys
import importlib.metadata as md
from methylprep.files.idat import IdatDataset
from methylprep.models import Channel
assert md.version("methylprep") == "1.7.1", md.version("methylprep")
path, ch = sys.argv[1], sys.argv[2]
d = IdatDataset(path, Channel.GREEN if ch == "Grn" else Channel.RED, std_dev=True, nbeads=True, bit="float64")
out = sys.stdout
out.write(f"#barcode\t{d.barcode}\n#chip_type\t{d.chip_type}\n#n\t{d.n_snps_read}\n#run_info\t{len(d.run_info)}\n")
for r in d.run_info:
    out.write("#run\t" + "|".join(r) + "\n")
df = d.probe_means
for addr, m, s, b in zip(df.index, df["mean_value"], df["std_dev"], df["n_beads"]):
    out.write(f"{int(addr)}\t{int(m)}\t{int(s)}\t{int(b)}\n")
"##;

#[test]
#[ignore = "needs methylprep: run by .ci/run"]
fn every_address_matches_methylprep() {
    let py = python();
    let mut total = 0usize;
    for name in [
        "4207113116_A_Grn",
        "4207113116_A_Red",
        "4207113116_B_Grn",
        "4207113116_B_Red",
    ] {
        let path = repo(&format!("tests/data/array/hm27_idat/{name}.idat"));
        let out = Command::new(&py)
            .args([
                "-c",
                SCRIPT,
                path.to_str().unwrap(),
                &name[name.len() - 3..],
            ])
            .output()
            .expect("run methylprep's Python");
        assert!(
            out.status.success(),
            "methylprep failed on {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let ours = agemark::idat::read(&path).unwrap();
        let mut k = 0usize;
        let mut runs = Vec::new();
        for line in text.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            match f[0] {
                "#barcode" => assert_eq!(f[1], ours.barcode, "{name}"),
                "#chip_type" => assert_eq!(f[1], ours.chip_type, "{name}"),
                "#n" => assert_eq!(f[1].parse::<usize>().unwrap(), ours.len(), "{name}"),
                "#run_info" => assert_eq!(f[1].parse::<usize>().unwrap(), ours.run_info.len()),
                "#run" => runs.push(f[1].to_string()),
                _ => {
                    let v: Vec<u64> = f.iter().map(|x| x.parse().unwrap()).collect();
                    assert_eq!(v[0], u64::from(ours.ids[k]), "{name}: address #{k}");
                    assert_eq!(v[1], u64::from(ours.means[k]), "{name}: mean of {}", v[0]);
                    assert_eq!(v[2], u64::from(ours.sds[k]), "{name}: SD of {}", v[0]);
                    assert_eq!(
                        v[3],
                        u64::from(ours.n_beads[k]),
                        "{name}: beads of {}",
                        v[0]
                    );
                    k += 1;
                }
            }
        }
        assert_eq!(k, ours.len(), "{name}: methylprep listed {k} addresses");
        let mine: Vec<String> = ours
            .run_info
            .iter()
            .map(|r| {
                [
                    &r.time,
                    &r.block_type,
                    &r.parameters,
                    &r.software,
                    &r.version,
                ]
                .map(|s| s.as_str())
                .join("|")
            })
            .collect();
        assert_eq!(runs, mine, "{name}: run info");
        eprintln!("{name}: {k} addresses: mean, SD and bead count equal to methylprep's");
        total += k;
    }
    assert_eq!(total, 4 * 55_300);
}
