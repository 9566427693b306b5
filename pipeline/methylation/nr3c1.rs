//! NR3C1 (glucocorticoid receptor) methylation: per-CpG betas and promoter region means.
//!
//! NR3C1 promoter methylation, above all at the exon 1F / NGFI-A site, is the most studied
//! marker of early-life stress (Oberlander TF et al. 2008, Epigenetics 3:97,
//! doi 10.4161/epi.3.2.6034; McGowan PO et al. 2009, Nat Neurosci 12:342, doi 10.1038/nn.2270;
//! review Palma-Gudiel H et al. 2015, Epigenetics 10:893, doi 10.1080/15592294.2015.1088630).
//!
//! For the 67 Illumina probes of `reference/nr3c1/nr3c1_probes.tsv` (hg19 chr5:142.60–142.85 Mb,
//! the gene and flanks; hg19 and hg38 positions per probe) agemark reports, per sample:
//!
//! * one row per probe: its beta (`measure` = probe ID; coordinates and region in `method`);
//! * region means, `mean_R = (1/n) Σ_{p ∈ R, beta_p measured} beta_p`, over the probes whose
//!   position falls in the region (membership by coordinate, so the exon 1F probes also count
//!   in the island):
//!   - `promoter_cgi_mean`: the CpG island over exons 1D–1H, hg19 chr5:142,782,071–142,785,071
//!     (hg38 143,402,506–143,405,506);
//!   - `exon1f_window_approx_mean`: hg19 chr5:142,783,000–142,783,999 (hg38
//!     143,403,435–143,404,434). **This 1-kb window is an approximation** of exon 1F: its exact
//!     boundaries were not verified against GenBank AY436590 or Turner & Muller 2005 (see
//!     `reference/nr3c1/PROVENANCE.md`); the method column says `approximate`, and the island
//!     mean is the robust grouping.
//!
//! hg38 = hg19 + [`HG38_OFFSET`] throughout this window (checked per probe in the provenance).
//!
//! Missing probes are never silent, but a probe the input's platform lacks is not a failed
//! measurement: it gets no row of its own, and one `probes_in_input` row per sample counts
//! the probes the input has (`value`, of the 67; its note names how many are absent and how
//! many of those are EPIC-only; `fail` when none is). A probe the input has but whose cell is
//! missing for this sample has an empty value, `qc_status = fail` and the reason. A region
//! mean uses the probes measured in
//! the sample (`n_used`); its note counts the missing ones, more than [`WARN_MISSING`] of them
//! warns, more than `max_missing` (default [`DEFAULT_MAX_MISSING`]) refuses the mean. A 450K
//! matrix lacks the EPIC-only probes (4 of 23 in the island, 2 of 10 in the exon 1F window), so
//! means from 450K and EPIC data rest on different probe sets: compare `n_used`.
//!
//! Sequencing calls: every covered CpG of the promoter island is also reported by coordinate
//! (`measure` = `cpg_<chrom>:<pos>`, `n_used` = coverage) through
//! [`calls_input::region_cpgs`](crate::methylation::source::calls_input::region_cpgs).

use crate::core::embedded;
use crate::{
    core::{Provenance, QcStatus},
    methylation::{
        bundled::{embedded_from, header_column},
        models::PROBE_IDS,
        source::{
            calls_input::{CallsBuild, CoveredCpg},
            read_methylation, BetaView, ReaderOptions,
        },
        InputError,
    },
    tidy::Row,
};

/// The `assay` column.
pub const ASSAY: &str = "nr3c1";
/// The table suffix: `<prefix>.nr3c1.tsv`.
pub const SUFFIX: &str = "nr3c1";
/// hg38 − hg19 across the NR3C1 window.
pub const HG38_OFFSET: u64 = 620_435;
/// Default refusal threshold of a region mean (fraction of its probes without a value).
pub const DEFAULT_MAX_MISSING: f64 = 0.5;
/// Above this fraction of missing probes a region mean warns.
pub const WARN_MISSING: f64 = 0.25;
/// The measure of the failed row when the calls' region query fails.
pub const CALLS_REGION_MEASURE: &str = "promoter_cgi_cpgs_by_coordinate";

const BUNDLED: &str = "reference/nr3c1 (embedded)";
/// The probe table file name.
pub const PROBES_FILE: &str = "nr3c1_probes.tsv";

static EMBEDDED: &[(&str, &[u8])] =
    embedded::files!(embedded::NR3C1; "MANIFEST.sha256", "nr3c1_probes.tsv");

/// A region of NR3C1, hg19 coordinates (1-based, inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// The `measure` of its mean.
    pub measure: &'static str,
    /// Short name for `method`.
    pub name: &'static str,
    /// Start, hg19.
    pub hg19_start: u64,
    /// End, hg19.
    pub hg19_end: u64,
}

impl Region {
    /// Start and end in a build.
    pub fn span(&self, build: CallsBuild) -> (u64, u64) {
        match build {
            CallsBuild::Hg19 => (self.hg19_start, self.hg19_end),
            CallsBuild::Hg38 => (self.hg19_start + HG38_OFFSET, self.hg19_end + HG38_OFFSET),
        }
    }
}

/// The promoter CpG island (exons 1D–1H).
pub const PROMOTER_CGI: Region = Region {
    measure: "promoter_cgi_mean",
    name: "promoter_cgi_1D-1H",
    hg19_start: 142_782_071,
    hg19_end: 142_785_071,
};
/// The approximate exon 1F window.
pub const EXON1F_APPROX: Region = Region {
    measure: "exon1f_window_approx_mean",
    name: "exon1F_window_approximate_1kb_unverified",
    hg19_start: 142_783_000,
    hg19_end: 142_783_999,
};
/// Regions with a mean row, in output order.
pub const REGIONS: [Region; 2] = [PROMOTER_CGI, EXON1F_APPROX];

/// One probe of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    /// Illumina probe ID.
    pub id: String,
    /// Chromosome (`chr5`).
    pub chr: String,
    /// hg19 position of the C (1-based, + strand).
    pub hg19: u64,
    /// hg38 position of the C.
    pub hg38: u64,
    /// On the 450K array.
    pub on_450k: bool,
    /// The table's region label.
    pub region: String,
}

/// The bundled probe table's bytes (sha256 checked).
pub fn probes_table() -> Result<Vec<u8>, InputError> {
    embedded_from(EMBEDDED, BUNDLED, PROBES_FILE)
}

/// sha256 of the bundled probe table as stored.
pub fn probes_sha256() -> String {
    crate::core::checksum::sha256_hex(EMBEDDED[1].1)
}

/// The bundled probes, in table order (by hg19 position).
pub fn probes() -> Result<Vec<Probe>, InputError> {
    let path = format!("{BUNDLED}/{PROBES_FILE}");
    let bytes = probes_table()?;
    let text = std::str::from_utf8(&bytes).map_err(|_| InputError::file(&path, "not UTF-8"))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let col = |name: &str| header_column(&header, &path, name);
    let (ci, cc, c19, c38, c450, cr) = (
        col("probe_id")?,
        col("chr")?,
        col("hg19_pos")?,
        col("hg38_pos")?,
        col("on_450k")?,
        col("region")?,
    );
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row = i as u64 + 2;
        let cells: Vec<&str> = line.split('\t').collect();
        let get = |c: usize| cells.get(c).copied().unwrap_or_default();
        let pos = |c: usize, name: &str| {
            get(c)
                .parse::<u64>()
                .map_err(|_| InputError::cell(&path, row, name, "not a position"))
        };
        out.push(Probe {
            id: get(ci).to_string(),
            chr: get(cc).to_string(),
            hg19: pos(c19, "hg19_pos")?,
            hg38: pos(c38, "hg38_pos")?,
            on_450k: get(c450) == "True",
            region: get(cr).to_string(),
        });
    }
    Ok(out)
}

/// Options of an NR3C1 run.
#[derive(Clone, Copy, Debug)]
pub struct Nr3c1Options {
    /// Refusal threshold of a region mean.
    pub max_missing: f64,
}

impl Default for Nr3c1Options {
    fn default() -> Self {
        Nr3c1Options {
            max_missing: DEFAULT_MAX_MISSING,
        }
    }
}

/// An NR3C1 run over every sample of an input.
#[derive(Clone, Debug)]
pub struct Nr3c1Run {
    /// The probes.
    pub probes: Vec<Probe>,
    /// The view of the probes.
    pub view: BetaView,
    /// Options.
    pub opts: Nr3c1Options,
}

impl Nr3c1Run {
    /// Probes present in the input.
    pub fn n_present(&self) -> usize {
        (0..self.view.cpgs.len())
            .filter(|&i| self.view.is_present(i))
            .count()
    }
}

/// Reads the probes of `path` through the methylation input seam.
pub fn run_nr3c1(
    path: &str,
    opts: &Nr3c1Options,
    reader: &ReaderOptions,
) -> Result<Nr3c1Run, InputError> {
    let ids = probe_ids()?;
    let view = read_methylation(path, &ids, reader)?;
    nr3c1_view(view, opts)
}

/// The probe IDs a run reads (the view [`nr3c1_view`] takes is of these, in this order).
pub fn probe_ids() -> Result<Vec<String>, InputError> {
    Ok(probes()?.iter().map(|p| p.id.clone()).collect())
}

/// An NR3C1 run on a view of [`probe_ids`] read by the caller (one read shared by several
/// stages).
pub fn nr3c1_view(view: BetaView, opts: &Nr3c1Options) -> Result<Nr3c1Run, InputError> {
    Ok(Nr3c1Run {
        probes: probes()?,
        view,
        opts: *opts,
    })
}

/// Tidy rows of a run: per sample, one row per probe then the region means.
pub fn to_rows(run: &Nr3c1Run, input: &str) -> Vec<Row> {
    let view = &run.view;
    let notes = view.notes.sentences();
    let mut rows = Vec::new();
    for (s, sample) in view.samples.iter().enumerate() {
        let prov = Provenance {
            sample_id: sample.clone(),
            input: input.to_string(),
            reference_build: PROBE_IDS.to_string(),
        };
        let value = |p: usize| -> Option<f64> {
            let i = view.index_of(&run.probes[p].id)?;
            let v = view.row(i)[s];
            (view.is_present(i) && v.is_finite()).then_some(v)
        };
        let in_input = |p: usize| {
            view.index_of(&run.probes[p].id)
                .is_some_and(|i| view.is_present(i))
        };
        rows.push(coverage_row(run, &prov, &in_input, &notes));
        for (p, probe) in run.probes.iter().enumerate() {
            if !in_input(p) {
                continue;
            }
            let method = format!(
                "probe_beta(hg19={chr}:{};hg38={chr}:{};region={})",
                probe.hg19,
                probe.hg38,
                probe.region,
                chr = probe.chr
            );
            let mut row = Row::new(&prov, ASSAY, &probe.id, f64::NAN, "beta", &method);
            row.qc_note.clear();
            row.qc_status = QcStatus::Pass;
            for n in &notes {
                row.add_note(n);
            }
            match value(p) {
                Some(v) => {
                    row.set_value(v);
                    row.n_used = Some(1);
                }
                None => {
                    row.n_used = Some(0);
                    row.fail("missing value in this sample");
                }
            }
            rows.push(row);
        }
        for region in REGIONS {
            let members: Vec<usize> = (0..run.probes.len())
                .filter(|&p| {
                    let h = run.probes[p].hg19;
                    (region.hg19_start..=region.hg19_end).contains(&h)
                })
                .collect();
            let vals: Vec<f64> = members.iter().filter_map(|&p| value(p)).collect();
            rows.push(region_row(
                &prov,
                &region,
                members.len(),
                &vals,
                &run.opts,
                &notes,
            ));
        }
    }
    rows
}

/// The measure of the per-sample count of NR3C1 probes the input has.
pub const COVERAGE_MEASURE: &str = "probes_in_input";

/// One row per sample: how many of the bundled probes the input has (the probes it lacks get
/// no row of their own).
fn coverage_row(
    run: &Nr3c1Run,
    prov: &Provenance,
    in_input: &dyn Fn(usize) -> bool,
    notes: &[String],
) -> Row {
    let n = run.probes.len();
    let absent: Vec<usize> = (0..n).filter(|&p| !in_input(p)).collect();
    let epic_only = absent.iter().filter(|&&p| !run.probes[p].on_450k).count();
    let present = n - absent.len();
    let method = format!("count_of_probes_in_input(of={n})");
    let mut row = Row::new(
        prov,
        ASSAY,
        COVERAGE_MEASURE,
        present as f64,
        "count",
        &method,
    );
    row.qc_note.clear();
    row.qc_status = QcStatus::Pass;
    row.n_used = Some(present as u64);
    for m in notes {
        row.add_note(m);
    }
    if present == 0 {
        row.fail(&format!(
            "none of the {n} NR3C1 probes is in the input: no probe or region values"
        ));
    } else if !absent.is_empty() {
        row.add_note(&format!(
            "{} of the {n} probes are not in the input ({epic_only} of them EPIC-only): no rows for them",
            absent.len()
        ));
    }
    row
}

fn region_row(
    prov: &Provenance,
    region: &Region,
    n_probes: usize,
    vals: &[f64],
    opts: &Nr3c1Options,
    notes: &[String],
) -> Row {
    let (a, b) = region.span(CallsBuild::Hg38);
    let method = format!(
        "mean_of_probes(region={};hg19=chr5:{}-{};hg38=chr5:{a}-{b};probes={n_probes})",
        region.name, region.hg19_start, region.hg19_end
    );
    let mean = vals.iter().sum::<f64>() / vals.len().max(1) as f64;
    let mut row = Row::new(prov, ASSAY, region.measure, f64::NAN, "beta", &method);
    row.qc_note.clear();
    row.qc_status = QcStatus::Pass;
    row.n_used = Some(vals.len() as u64);
    let missing = n_probes - vals.len();
    let frac = missing as f64 / n_probes.max(1) as f64;
    for n in notes {
        row.add_note(n);
    }
    if vals.is_empty() || frac > opts.max_missing {
        row.value = None;
        row.fail(&format!(
            "not computed: {missing} of the region's {n_probes} probes have no value in this sample, above --max-missing {}",
            opts.max_missing
        ));
    } else {
        if missing > 0 {
            row.add_note(&format!(
                "{missing} of the region's {n_probes} probes have no value in this sample; mean of the {} present",
                vals.len()
            ));
        }
        row.set_value(mean);
        if frac > WARN_MISSING {
            row.warn(&format!(
                "more than {:.0}% of the region's probes missing",
                100.0 * WARN_MISSING
            ));
        }
    }
    row
}

/// Rows for every covered CpG of the promoter island of a sequencing-calls sample, by
/// coordinate, from the answer of `region_cpgs`; an error becomes one failed row with the
/// reason (the probe rows are unaffected).
pub fn calls_region_rows(
    sample_id: &str,
    input: &str,
    build: CallsBuild,
    answer: Result<Vec<CoveredCpg>, InputError>,
) -> Vec<Row> {
    let build_name = match build {
        CallsBuild::Hg19 => "hg19",
        CallsBuild::Hg38 => "hg38",
    };
    let prov = Provenance {
        sample_id: sample_id.to_string(),
        input: input.to_string(),
        reference_build: build_name.to_string(),
    };
    let (a, b) = PROMOTER_CGI.span(build);
    let method = format!(
        "calls_beta(region={};{build_name}=chr5:{a}-{b})",
        PROMOTER_CGI.name
    );
    match answer {
        Ok(cpgs) => cpgs
            .iter()
            .map(|c| {
                let chrom = if c.chrom.starts_with("chr") {
                    c.chrom.clone()
                } else {
                    format!("chr{}", c.chrom)
                };
                let mut row = Row::new(
                    &prov,
                    ASSAY,
                    &format!("cpg_{chrom}:{}", c.pos),
                    c.beta,
                    "beta",
                    &method,
                );
                row.n_used = Some(u64::from(c.coverage));
                row
            })
            .collect(),
        Err(e) => {
            let mut row = Row::new(
                &prov,
                ASSAY,
                CALLS_REGION_MEASURE,
                f64::NAN,
                "beta",
                &method,
            );
            row.qc_note.clear();
            row.n_used = Some(0);
            row.fail(&format!("not computed: {e}"));
            vec![row]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_table_has_both_builds_and_the_documented_regions() {
        let p = probes().unwrap();
        assert_eq!(p.len(), 67);
        assert!(p
            .iter()
            .all(|x| x.hg38 == x.hg19 + HG38_OFFSET && x.chr == "chr5"));
        let count = |r: &Region| {
            p.iter()
                .filter(|x| (r.hg19_start..=r.hg19_end).contains(&x.hg19))
                .count()
        };
        assert_eq!(count(&PROMOTER_CGI), 23);
        assert_eq!(count(&EXON1F_APPROX), 10);
        // Every probe the table labels exon 1F lies in the window, and the window in the island.
        for x in p.iter().filter(|x| x.region == "exon1F_window_approx") {
            assert!((EXON1F_APPROX.hg19_start..=EXON1F_APPROX.hg19_end).contains(&x.hg19));
        }
    }

    #[test]
    fn calls_region_rows_report_each_cpg_or_one_failed_row() {
        let ok = vec![CoveredCpg {
            chrom: "5".into(),
            pos: 143_402_600,
            methylated: 3,
            coverage: 12,
            beta: 0.25,
        }];
        let rows = calls_region_rows("S1", "s1.cov", CallsBuild::Hg38, Ok(ok));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].measure, "cpg_chr5:143402600");
        assert_eq!(rows[0].value, Some(0.25));
        assert_eq!(rows[0].n_used, Some(12));
        assert_eq!(rows[0].reference_build, "hg38");
        assert!(rows[0].method.contains("143402506-143405506"));
        let err = calls_region_rows(
            "S1",
            "s1.cov",
            CallsBuild::Hg19,
            Err(InputError::file(
                "s1.cov",
                "sequencing calls are not supported yet",
            )),
        );
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].qc_status, QcStatus::Fail);
        assert_eq!(err[0].value, None);
        assert!(err[0].qc_note.contains("not supported yet"));
        assert!(err[0].method.contains("142782071-142785071"));
    }
}
