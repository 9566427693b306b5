//! One read pass of one sample feeding the telomere and mtDNA stages.
//!
//! The room above [`crate::reads`] (inputs and the one-pass engine), [`crate::telomere`] and
//! [`crate::mtdna`] (the stages): it opens an input, names the sample, runs the stages asked for
//! on one decode ([`read_pass`]) and writes their tables. The `agemark telomere`, `mtdna` and
//! `reads` commands are one call each here ([`telomere_to`], [`mtdna_to`], [`reads_to`];
//! `telomere --long-reads` is [`long_read_telomere_to`]); a cohort run calls [`read_pass`]
//! per sample.

use std::path::{Path, PathBuf};

use tracing::{info, warn};

use crate::{
    core::{error::Error, file_name_of, sample_id_from_path, Provenance},
    mtdna::{self, fast::FastOptions, ContigPlan, MtdnaOptions, MtdnaStage},
    reads::{self, ErasedStage, InputInfo, InputSpec},
    telomere::{
        self,
        longread::{self, LongReadOptions, LongReadStage},
        TelomereOptions, TelomereStage,
    },
    tidy::{self, Row},
};

/// Sample id: the user's, else the read groups' common SM, else the file name.
pub fn sample_id(given: Option<&str>, path: &str, info: &InputInfo) -> String {
    if let Some(s) = given {
        return s.to_string();
    }
    let mut sms = info
        .read_groups
        .iter()
        .filter_map(|rg| rg.sample.as_deref());
    if let Some(first) = sms.next() {
        if sms.all(|s| s == first) && info.read_groups.iter().all(|rg| rg.sample.is_some()) {
            return first.to_string();
        }
    }
    sample_id_from_path(path)
}

/// Provenance for an opened input.
pub fn provenance(spec: &InputSpec, sample_id: String, info: &InputInfo) -> Provenance {
    let mut input = file_name_of(&spec.path);
    if let Some(p2) = &spec.path2 {
        input.push('+');
        input.push_str(&file_name_of(p2));
    }
    Provenance {
        sample_id,
        input,
        reference_build: info.build.as_str().to_string(),
    }
}

/// Tables from one read pass: telomere rows and mtDNA rows, for the stages asked for.
#[derive(Default)]
pub struct PassTables {
    /// Telomere rows.
    pub telomere: Option<Vec<Row>>,
    /// mtDNA rows.
    pub mtdna: Option<Vec<Row>>,
    /// The per-read table of long-read telomeres (TSV text), when they were measured.
    pub telomere_reads: Option<String>,
}

/// Which telomere measure a pass makes.
#[derive(Clone, Debug)]
pub enum TelomereMode {
    /// TelSeq and TelomereHunter (short reads).
    Short(TelomereOptions),
    /// The terminal tract of each molecule (long reads).
    Long(LongReadOptions),
}

/// Runs one decode of an input feeding the requested stages.
///
/// With `mtdna_required` (the `bool` beside the mtDNA options), a header without chrM or
/// autosomes is an error (`agemark mtdna`); otherwise (`agemark reads`) the mtDNA table gets
/// failed rows saying why, and the telomere stage still runs.
pub fn read_pass(
    spec: &InputSpec,
    given_sample: Option<&str>,
    telomere: Option<TelomereMode>,
    mtdna: Option<(MtdnaOptions, bool)>,
    threads: usize,
) -> Result<PassTables, Error> {
    if let Some(p2) = &spec.path2 {
        let same = p2 == &spec.path
            || std::fs::canonicalize(p2)
                .ok()
                .zip(std::fs::canonicalize(&spec.path).ok())
                .is_some_and(|(a, b)| a == b);
        if same && spec.path != "-" {
            return Err(Error::usage(format!(
                "{p2}: the same file as read 1; give the read-2 FASTQ as the second input"
            )));
        }
    }
    let source = reads::open(spec, threads)?;
    let info = source.info.clone();
    let sample = sample_id(given_sample, &spec.path, &info);
    let prov = provenance(spec, sample, &info);
    let (tel_stage, long_stage) = match telomere {
        Some(TelomereMode::Short(o)) => (Some(TelomereStage::new(o, info.read_groups.len())), None),
        Some(TelomereMode::Long(o)) => (None, Some(LongReadStage::new(&o, &info))),
        None => (None, None),
    };
    let mut mt_failed = None;
    let mt_stage = match mtdna {
        None => None,
        Some((o, required)) => match ContigPlan::from_info(&spec.path, &info) {
            Ok(plan) => Some(MtdnaStage::new(o, plan, info.read_groups.len())),
            Err(e) if !required => {
                warn!(
                    "{}: mtDNA copy number not computed: {}",
                    prov.sample_id, e.message
                );
                mt_failed = Some(mtdna::failed_rows(&prov, &o.method("full"), &e.message));
                None
            }
            Err(e) => return Err(e.into()),
        },
    };
    let mut stages: Vec<&dyn ErasedStage> = Vec::new();
    if let Some(s) = &tel_stage {
        stages.push(s);
    }
    if let Some(s) = &long_stage {
        stages.push(s);
    }
    if let Some(s) = &mt_stage {
        stages.push(s);
    }
    let (accs, stats) = reads::run_pass(source, &stages, threads)?;
    let mut telomere_reads = None;
    let rows: Vec<Vec<Row>> = stages
        .iter()
        .zip(accs)
        .enumerate()
        .map(|(k, (stage, acc))| match (&long_stage, k) {
            (Some(l), 0) => {
                let acc = reads::take_acc(l, acc);
                telomere_reads = Some(longread::reads_tsv(&acc, &prov.sample_id));
                longread::summary_rows(&acc, &l.motif, &prov)
            }
            _ => stage.finish_boxed(acc, &info, &prov),
        })
        .collect();
    info!(
        "{}: {} {} records in {:.2} s ({} threads)",
        prov.sample_id,
        info.format.as_str(),
        stats.records,
        stats.seconds,
        threads
    );
    // Rows come back in stage order: telomere first when asked for, then mtDNA.
    let mut rows = rows.into_iter();
    let mut out = PassTables {
        telomere_reads,
        ..Default::default()
    };
    if tel_stage.is_some() || long_stage.is_some() {
        out.telomere = rows.next();
    }
    if mt_stage.is_some() {
        out.mtdna = rows.next();
    }
    if mt_failed.is_some() {
        out.mtdna = mt_failed;
    }
    Ok(out)
}

/// Runs the telomere stage on one input; returns the rows.
pub fn telomere_rows(
    spec: &InputSpec,
    given_sample: Option<&str>,
    opts: TelomereOptions,
    threads: usize,
) -> Result<Vec<Row>, Error> {
    Ok(read_pass(
        spec,
        given_sample,
        Some(TelomereMode::Short(opts)),
        None,
        threads,
    )?
    .telomere
    .unwrap_or_default())
}

/// Creates (and checks) the directory of an output prefix; nothing to do for stdout (`-`).
fn prepare(output: &str) -> Result<(), Error> {
    if output != "-" {
        tidy::prepare_output_dir(Path::new(output))?;
    }
    Ok(())
}

/// `agemark telomere`: the telomere table of one input, written to `<output>.telomere.tsv` and
/// `.parquet` (or the TSV to stdout for `-`). Returns the files written.
pub fn telomere_to(
    spec: &InputSpec,
    given_sample: Option<&str>,
    opts: TelomereOptions,
    threads: usize,
    output: &str,
) -> Result<Vec<PathBuf>, Error> {
    opts.validate()?;
    prepare(output)?;
    let rows = telomere_rows(spec, given_sample, opts, threads)?;
    Ok(tidy::write_rows(output, telomere::SUFFIX, &rows)?)
}

/// Long-read telomere lengths of one input: the per-read table's text and the summary rows.
pub fn long_read_telomeres(
    spec: &InputSpec,
    given_sample: Option<&str>,
    opts: &LongReadOptions,
    threads: usize,
) -> Result<(String, Vec<Row>), Error> {
    let t = read_pass(
        spec,
        given_sample,
        Some(TelomereMode::Long(opts.clone())),
        None,
        threads,
    )?;
    Ok((
        t.telomere_reads.unwrap_or_default(),
        t.telomere.unwrap_or_default(),
    ))
}

/// `agemark telomere --long-reads`: `<output>.telomere_reads.tsv` (one row per telomeric read)
/// and the summary rows in `<output>.telomere.tsv` and `.parquet`, written once all are
/// complete. Returns the files written.
pub fn long_read_telomere_to(
    spec: &InputSpec,
    given_sample: Option<&str>,
    opts: &LongReadOptions,
    threads: usize,
    output: &str,
) -> Result<Vec<PathBuf>, Error> {
    if output == "-" {
        return Err(Error::usage(
            "--long-reads writes two tables (per read and per sample): give -o a prefix, not -",
        ));
    }
    opts.validate()?;
    tidy::check_prefix(output)?;
    prepare(output)?;
    let (per_read, rows) = long_read_telomeres(spec, given_sample, opts, threads)?;
    let reads_path = PathBuf::from(format!("{output}.{}.tsv", longread::READS_SUFFIX));
    tidy::write_atomic(&reads_path, |w| {
        use std::io::Write;
        w.write_all(per_read.as_bytes())
    })?;
    let mut written = vec![reads_path];
    written.extend(tidy::write_rows(output, telomere::SUFFIX, &rows)?);
    Ok(written)
}

/// How mtDNA copy number is measured.
#[derive(Clone, Debug)]
pub enum MtdnaMode {
    /// A full read pass over the input.
    Full,
    /// Indexed queries of chrM and a sample of autosomal windows.
    Fast(FastOptions),
}

/// mtDNA copy number of one input in fast mode (indexed queries); returns the rows.
pub fn mtdna_fast_rows(
    spec: &InputSpec,
    given_sample: Option<&str>,
    opts: &MtdnaOptions,
    fast: &FastOptions,
) -> Result<Vec<Row>, Error> {
    fast.validate(opts)?;
    let started = std::time::Instant::now();
    let (counts, sampling, plan, info) = mtdna::fast::run(spec, opts, fast)?;
    let sample = sample_id(given_sample, &spec.path, &info);
    let prov = provenance(spec, sample, &info);
    info!(
        "{}: fast mode in {:.2} s",
        prov.sample_id,
        started.elapsed().as_secs_f64()
    );
    let method = opts.method(&format!(
        "fast;windows={}x{}bp;seed={}",
        fast.windows, fast.window_size, fast.seed
    ));
    Ok(mtdna::rows_for(
        &counts,
        &plan,
        Some(sampling),
        &method,
        &prov,
        "",
    ))
}

/// `agemark mtdna`: the mtDNA table of one input, written to `<output>.mtdna.tsv` and
/// `.parquet` (or the TSV to stdout for `-`). Returns the files written.
pub fn mtdna_to(
    spec: &InputSpec,
    given_sample: Option<&str>,
    opts: MtdnaOptions,
    mode: &MtdnaMode,
    threads: usize,
    output: &str,
) -> Result<Vec<PathBuf>, Error> {
    if let MtdnaMode::Fast(fast) = mode {
        fast.validate(&opts)?;
    }
    prepare(output)?;
    let rows = match mode {
        MtdnaMode::Full => read_pass(spec, given_sample, None, Some((opts, true)), threads)?
            .mtdna
            .unwrap_or_default(),
        MtdnaMode::Fast(fast) => mtdna_fast_rows(spec, given_sample, &opts, fast)?,
    };
    Ok(tidy::write_rows(output, mtdna::SUFFIX, &rows)?)
}

/// `agemark reads`: the telomere and mtDNA tables of one input from one decode, written to
/// `<prefix>.telomere.*` and `<prefix>.mtdna.*` once both are complete. An input that cannot
/// give mtDNA copy number (FASTQ, no chrM) gets failed mtDNA rows saying why. Returns the files
/// written.
pub fn reads_to(
    spec: &InputSpec,
    given_sample: Option<&str>,
    tel: TelomereOptions,
    mt: MtdnaOptions,
    threads: usize,
    prefix: &Path,
) -> Result<Vec<PathBuf>, Error> {
    tel.validate()?;
    tidy::prepare_output_dir(prefix)?;
    let tables = read_pass(
        spec,
        given_sample,
        Some(TelomereMode::Short(tel)),
        Some((mt, false)),
        threads,
    )?;
    // Both tables are complete before either is written.
    // ... and the four files appear together or not at all.
    let telomere = tables.telomere.unwrap_or_default();
    let mtdna = tables.mtdna.unwrap_or_default();
    Ok(tidy::write_tables(
        prefix,
        &[(telomere::SUFFIX, &telomere), (mtdna::SUFFIX, &mtdna)],
    )?)
}
