//! Current arrays without hunting for manifests (issue 18): the bundled MSA manifest end to
//! end on IDATs built here from its real bead addresses, EPIC/EPICv2 manifests installed once
//! with `agemark reference install` (sesame files by published sha256, Illumina CSVs by
//! structure), a tampered file refused, and an EPIC IDAT with nothing installed answered with
//! the one line that says what to install.
//!
//! The intensities of every IDAT here are SYNTHETIC (made from known betas); the bead
//! addresses are real (MSA: the bundled sesame ordering table; EPICv2: the 6,963 real
//! replicate-design rows in tests/data/array, whose probe-ID suffixes `_R01`… are made up
//! here).

use std::{collections::BTreeMap, fs, io::Read, io::Write, path::Path};

use crate::common::{agemark_env, repo, tempdir};
use agemark::{
    core::rng::SplitMix64,
    idat::{write as write_idat, Idat},
};

/// One probe for a synthetic IDAT: id, type-I colour (`Some('R'|'G')`) or type II, U and M
/// addresses.
struct P {
    id: String,
    col: Option<char>,
    u: u32,
    m: u32,
}

/// SYNTHETIC intensities for `probes` with known betas, typed controls, and `extra` more
/// addresses (real chips carry beads beyond the manifest); returns the pair and the truth.
fn synth(
    probes: &[P],
    controls: &[(u32, &str)],
    extra: u32,
    seed: u64,
) -> (Idat, Idat, BTreeMap<String, f64>) {
    let mut rng = SplitMix64(seed);
    let (mut g, mut r): (BTreeMap<u32, f64>, BTreeMap<u32, f64>) = Default::default();
    let mut truth = BTreeMap::new();
    for p in probes {
        let b = rng.unit();
        truth.insert(p.id.clone(), b);
        let total = 8000.0 * (0.5 + rng.unit());
        let bg = |rng: &mut SplitMix64| rng.normal(300.0, 60.0).max(20.0);
        let (m, u) = (bg(&mut rng) + b * total, bg(&mut rng) + (1.0 - b) * total);
        match p.col {
            Some(c) => {
                let (inb, oob) = if c == 'R' {
                    (&mut r, &mut g)
                } else {
                    (&mut g, &mut r)
                };
                inb.insert(p.u, u);
                inb.insert(p.m, m);
                oob.insert(p.u, bg(&mut rng));
                oob.insert(p.m, bg(&mut rng));
            }
            None => {
                g.insert(p.u, m);
                r.insert(p.u, u);
            }
        }
    }
    for (a, kind) in controls {
        let (gv, rv) = match *kind {
            "NORM_A" | "NORM_T" => (300.0, 6000.0),
            "NORM_C" | "NORM_G" => (6000.0, 300.0),
            _ => (300.0, 300.0),
        };
        g.insert(*a, gv);
        r.insert(*a, rv);
    }
    let mut next = 1u32;
    for _ in 0..extra {
        while g.contains_key(&next) {
            next += 1;
        }
        g.insert(next, 500.0);
        r.insert(next, 500.0);
        next += 1;
    }
    let to_idat = |m: &BTreeMap<u32, f64>| {
        let ids: Vec<u32> = m.keys().copied().collect();
        Idat {
            means: m
                .values()
                .map(|&v| v.round().clamp(0.0, 65535.0) as u16)
                .collect(),
            sds: vec![100; ids.len()],
            n_beads: vec![12; ids.len()],
            mid_block: ids.clone(),
            ids,
            barcode: "777777777777".into(),
            chip_type: "SYNTHETIC".into(),
            red_green: Some(0),
            ..Default::default()
        }
    };
    (to_idat(&g), to_idat(&r), truth)
}

fn write_pair(dir: &Path, name: &str, g: &Idat, r: &Idat) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(format!("{name}_Grn.idat")), write_idat(g)).unwrap();
    fs::write(dir.join(format!("{name}_Red.idat")), write_idat(r)).unwrap();
}

/// (probe id, beta) of a betas.tsv.gz with one sample.
fn betas(path: &Path) -> BTreeMap<String, f64> {
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(fs::File::open(path).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s.lines()
        .skip(1)
        .filter_map(|l| {
            let (id, v) = l.split_once('\t')?;
            Some((id.to_string(), v.parse().ok()?))
        })
        .collect()
}

fn median_abs_error(got: &BTreeMap<String, f64>, truth: &BTreeMap<String, f64>) -> (usize, f64) {
    let mut e: Vec<f64> = truth
        .iter()
        .filter_map(|(k, b)| got.get(k).map(|g| (g - b).abs()))
        .collect();
    e.sort_by(f64::total_cmp);
    (e.len(), e.get(e.len() / 2).copied().unwrap_or(f64::NAN))
}

#[test]
fn an_msa_idat_runs_with_nothing_but_the_binary() {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(
        fs::File::open(repo("reference/arrays/MSA.ordering.tsv.gz")).unwrap(),
    )
    .read_to_string(&mut text)
    .unwrap();
    let (mut probes, mut controls) = (Vec::new(), Vec::new());
    for l in text.lines().skip(1) {
        let f: Vec<&str> = l.split('\t').collect();
        let u: u32 = f[2].parse().unwrap();
        if let Some(rest) = f[0].strip_prefix("ctl_") {
            let kind = rest.split_once('_').map_or("", |x| x.1);
            if kind == "NEGATIVE" || kind.starts_with("NORM_") {
                controls.push((u, kind));
            }
            continue;
        }
        let col = match f[3] {
            "R" => Some('R'),
            "G" => Some('G'),
            _ => None,
        };
        let m = if f[1] == "NA" {
            u
        } else {
            f[1].parse().unwrap()
        };
        probes.push(P {
            id: f[0].to_string(),
            col,
            u,
            m,
        });
    }
    assert!(probes.len() > 280_000, "{}", probes.len());
    let controls: Vec<(u32, &str)> = controls.iter().map(|(a, k)| (*a, *k)).collect();
    // 3 % more beads than the manifest: recognised by address share, not count.
    let (g, r, truth) = synth(&probes, &controls, 9_000, 18);
    let dir = tempdir();
    let idats = dir.path().join("idats");
    write_pair(&idats, "777777777777_R01C01", &g, &r);
    let prefix = dir.path().join("msa");
    let run = agemark_env(
        [
            "idat",
            idats.to_str().unwrap(),
            "-o",
            prefix.to_str().unwrap(),
        ],
        &[(
            "AGEMARK_DATA_DIR",
            dir.path().join("empty").to_str().unwrap(),
        )],
    );
    run.assert_ok();
    let got = betas(&prefix.with_extension("betas.tsv.gz"));
    let (n, med) = median_abs_error(&got, &truth);
    assert!(n > 280_000, "{n} probes compared");
    assert!(med < 0.03, "median |beta - truth| = {med}");
    let qc = fs::read_to_string(prefix.with_extension("idat_qc.tsv")).unwrap();
    // Its typed controls are used: dye bias from the normalisation controls.
    assert!(qc.contains("norm_controls_raw"), "{qc}");
    assert!(qc.contains("msa"), "the platform is named: {qc}");
}

/// The real-address EPICv2 subset as a sesame ordering table (probe suffixes made up).
fn epicv2_subset() -> (String, Vec<P>) {
    let mut raw = String::new();
    flate2::read::MultiGzDecoder::new(
        fs::File::open(repo(
            "tests/data/array/EPICv2.replicate_probes.MethylCallR.tsv.gz",
        ))
        .unwrap(),
    )
    .read_to_string(&mut raw)
    .unwrap();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut tsv = String::from("Probe_ID\tM\tU\tcol\n");
    let mut probes = Vec::new();
    for l in raw.lines().skip(1) {
        let f: Vec<&str> = l.split('\t').collect();
        let k = seen.entry(f[0].to_string()).or_default();
        *k += 1;
        let id = format!("{}_R{:02}", f[0], k);
        let u: u32 = f[1].parse().unwrap();
        let (m, col) = if f[5] == "I" {
            (
                f[2].parse().unwrap(),
                if f[3] == "Red" { Some('R') } else { Some('G') },
            )
        } else {
            (u, None)
        };
        tsv.push_str(&format!(
            "{id}\t{}\t{u}\t{}\n",
            if col.is_some() {
                m.to_string()
            } else {
                "NA".into()
            },
            col.map_or("2".to_string(), |c| c.to_string())
        ));
        probes.push(P { id, col, u, m });
    }
    (tsv, probes)
}

/// Fresh addresses for synthetic controls (above every real one).
fn controls_above(probes: &[P]) -> Vec<(u32, &'static str)> {
    let top = probes.iter().map(|p| p.u.max(p.m)).max().unwrap();
    let mut c = Vec::new();
    for i in 0..40 {
        c.push((top + 1 + i, "NEGATIVE"));
    }
    for (i, k) in ["NORM_A", "NORM_T", "NORM_C", "NORM_G"].iter().enumerate() {
        c.push((top + 100 + i as u32, *k));
    }
    c
}

/// sha256 of the gzip (mtime 0) of the subset table, pinned: the file the checksum path sees.
const SUBSET_SHA256: &str = "29a7569bc83674c687e842fda0358144e5d917bd53d04525dfdc065f0eca6aa1";

#[test]
fn an_epicv2_manifest_installed_by_checksum_then_recognised_offline() {
    let dir = tempdir();
    let d = dir.path();
    let data = d.join("data");
    let (tsv, probes) = epicv2_subset();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(tsv.as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    let sha = agemark::core::checksum::sha256_hex(&bytes);
    assert_eq!(sha, SUBSET_SHA256, "the subset file changed");
    let file = d.join("EPICv2subset.ordering.tsv.gz");
    fs::write(&file, &bytes).unwrap();
    let env = [("AGEMARK_DATA_DIR", data.to_str().unwrap())];
    // Not in any published list and not an Illumina CSV: refused.
    let r = agemark_env(["reference", "install", file.to_str().unwrap()], &env);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("not recognised"), "{}", r.stderr);
    // With a list that pins its sum (as upstream's list pins the full file's).
    let sums = d.join("SUBSET.SHA256SUMS");
    fs::write(&sums, format!("{SUBSET_SHA256}  EPICv2.ordering.tsv.gz\n")).unwrap();
    let r = agemark_env(
        [
            "reference",
            "install",
            file.to_str().unwrap(),
            "--sha256sums",
            sums.to_str().unwrap(),
        ],
        &env,
    );
    r.assert_ok();
    assert!(
        r.stdout_text().contains("epicv2: installed"),
        "{}",
        r.stdout_text()
    );
    let rec = fs::read_to_string(data.join("manifests/epicv2.source.tsv")).unwrap();
    assert!(
        rec.contains(SUBSET_SHA256) && rec.contains("published list"),
        "{rec}"
    );
    let list = agemark_env(["reference", "list"], &env).stdout_text();
    assert!(
        list.lines()
            .any(|l| l.starts_with("epicv2_manifest\tarray_manifest\t6963\t")),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with("msa_manifest\tarray_manifest\t")),
        "{list}"
    );
    // An IDAT of those real addresses (+ controls, + 2 % extra beads) is recognised as EPICv2.
    let (g, r_, truth) = synth(&probes, &controls_above(&probes), 140, 7);
    let idats = d.join("idats");
    write_pair(&idats, "777777777777_R02C01", &g, &r_);
    let prefix = d.join("v2");
    let run = agemark_env(
        [
            "idat",
            idats.to_str().unwrap(),
            "-o",
            prefix.to_str().unwrap(),
        ],
        &env,
    );
    run.assert_ok();
    let got = betas(&prefix.with_extension("betas.tsv.gz"));
    let (n, med) = median_abs_error(&got, &truth);
    assert_eq!(n, 6963);
    assert!(med < 0.03, "median |beta - truth| = {med}");
    // An EPIC v1 sesame ordering table (here: the first 3,000 rows of the same subset, its sum
    // listed as EPIC.ordering.tsv.gz) has no typed controls: the 635 EPIC controls of
    // sesameData are attached.
    let head: String = tsv.lines().take(3001).map(|l| format!("{l}\n")).collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(head.as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    let v1 = d.join("v1subset.tsv.gz");
    fs::write(&v1, &bytes).unwrap();
    let sums1 = d.join("V1.SHA256SUMS");
    let sha1 = agemark::core::checksum::sha256_hex(&bytes);
    fs::write(&sums1, format!("{sha1}  EPIC.ordering.tsv.gz\n")).unwrap();
    let r = agemark_env(
        [
            "reference",
            "install",
            v1.to_str().unwrap(),
            "--sha256sums",
            sums1.to_str().unwrap(),
        ],
        &env,
    );
    r.assert_ok();
    assert!(
        r.stdout_text().contains("epic: installed")
            && r.stdout_text().contains("(3000 probes, 635 controls)"),
        "{}",
        r.stdout_text()
    );
}

#[test]
fn an_illumina_csv_installs_by_structure_and_a_tampered_file_is_refused() {
    let dir = tempdir();
    let d = dir.path();
    let data = d.join("data");
    let env = [("AGEMARK_DATA_DIR", data.to_str().unwrap())];
    let (_, probes) = epicv2_subset();
    let mut csv = String::from(
        "Illumina, Inc.\n[Heading]\nDescriptor File Name,SYNTHETIC-subset.bpm\n[Assay]\nIlmnID,Name,AddressA_ID,AddressB_ID,Infinium_Design_Type,Color_Channel,CHR\n",
    );
    for p in &probes {
        match p.col {
            Some(c) => csv.push_str(&format!(
                "{},{},{},{},I,{},chr1\n",
                p.id,
                p.id,
                p.u,
                p.m,
                if c == 'R' { "Red" } else { "Grn" }
            )),
            None => csv.push_str(&format!("{},{},{},,II,,chr1\n", p.id, p.id, p.u)),
        }
    }
    let mut with_controls = csv.clone();
    with_controls.push_str("[Controls]\n");
    for (a, k) in controls_above(&probes) {
        with_controls.push_str(&format!("{a},{k},Black,{k} {a}\n"));
    }
    let file = d.join("subset_manifest.csv");
    // Without [Controls]: refused.
    fs::write(&file, &csv).unwrap();
    let r = agemark_env(
        [
            "reference",
            "install",
            file.to_str().unwrap(),
            "--platform",
            "epic",
        ],
        &env,
    );
    assert_ne!(r.code, Some(0));
    assert!(r.stderr.contains("[Controls]"), "{}", r.stderr);
    // With them, and the heading naming no array: --platform says which.
    fs::write(&file, &with_controls).unwrap();
    let r = agemark_env(["reference", "install", file.to_str().unwrap()], &env);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("--platform"), "{}", r.stderr);
    let r = agemark_env(
        [
            "reference",
            "install",
            file.to_str().unwrap(),
            "--platform",
            "epic",
        ],
        &env,
    );
    r.assert_ok();
    assert!(
        r.stdout_text().contains("epic: installed"),
        "{}",
        r.stdout_text()
    );
    assert!(fs::read_to_string(data.join("manifests/epic.source.tsv"))
        .unwrap()
        .contains("checked by structure"));
    // A file named like a published one whose sum differs: damaged or altered.
    let fake = d.join("EPIC.ordering.tsv.gz");
    fs::write(&fake, b"\x1f\x8b not the real file").unwrap();
    let r = agemark_env(["reference", "install", fake.to_str().unwrap()], &env);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("damaged or altered"), "{}", r.stderr);
}

#[test]
fn an_epic_idat_without_an_installed_manifest_says_what_to_install() {
    let dir = tempdir();
    let n = 1_052_000u32;
    let big = Idat {
        ids: (1..=n).collect(),
        means: vec![1000; n as usize],
        sds: vec![10; n as usize],
        n_beads: vec![10; n as usize],
        ..Default::default()
    };
    let idats = dir.path().join("idats");
    write_pair(&idats, "666666666666_R01C01", &big, &big);
    let empty = dir.path().join("nothing-installed");
    let r = agemark_env(
        [
            "idat",
            idats.to_str().unwrap(),
            "-o",
            dir.path().join("e").to_str().unwrap(),
        ],
        &[("AGEMARK_DATA_DIR", empty.to_str().unwrap())],
    );
    assert_ne!(r.code, Some(0));
    let lines: Vec<&str> = r.stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    for want in [
        "epic IDAT (1052000 addresses)",
        "no epic manifest installed",
        "agemark reference install",
        "InfiniumAnnotation",
    ] {
        assert!(lines[0].contains(want), "{want}: {}", lines[0]);
    }
}
