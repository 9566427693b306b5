//! One read pass of one sample feeding the telomere and mtDNA stages: what `agemark
//! telomere`, `mtdna` and `reads` run, and what a cohort run's `reads` job runs per sample.
//!
//! The input is decoded once ([`reads::run_pass`]); each stage accumulates per worker and
//! turns its merged accumulator into tidy rows.

use tracing::{info, warn};

use crate::{
    core::{error::Error, file_name_of, sample_id_from_path, Provenance},
    mtdna::{self, ContigPlan, MtdnaOptions, MtdnaStage},
    reads::{self, run_pass, take_acc, ErasedStage, InputInfo, InputSpec},
    telomere::{TelomereOptions, TelomereStage},
    tidy::Row,
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
}

/// Runs one decode of an input feeding the requested stages.
///
/// With `mtdna_required`, a header without chrM or autosomes is an error (`agemark mtdna`);
/// otherwise (`agemark reads`) the mtDNA table gets failed rows saying why, and the telomere
/// stage still runs.
pub fn read_pass(
    spec: &InputSpec,
    given_sample: Option<&str>,
    telomere: Option<TelomereOptions>,
    mtdna: Option<(MtdnaOptions, bool)>,
    threads: usize,
) -> Result<PassTables, Error> {
    let source = reads::open(spec, threads)?;
    let info = source.info.clone();
    let sample = sample_id(given_sample, &spec.path, &info);
    let prov = provenance(spec, sample, &info);
    let tel_stage = telomere.map(|o| TelomereStage::new(o, info.read_groups.len()));
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
    if let Some(s) = &mt_stage {
        stages.push(s);
    }
    let (accs, stats) = run_pass(source, &stages, threads)?;
    info!(
        "{}: {} {} records in {:.2} s ({} threads)",
        prov.sample_id,
        info.format.as_str(),
        stats.records,
        stats.seconds,
        threads
    );
    let mut accs = accs.into_iter();
    let mut out = PassTables::default();
    if let (Some(stage), Some(acc)) = (&tel_stage, tel_stage.as_ref().and_then(|_| accs.next())) {
        out.telomere = Some(stage.finish(take_acc(stage, acc), &info, &prov));
    }
    if let (Some(stage), Some(acc)) = (&mt_stage, mt_stage.as_ref().and_then(|_| accs.next())) {
        out.mtdna = Some(stage.finish(take_acc(stage, acc), &info, &prov));
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
    Ok(read_pass(spec, given_sample, Some(opts), None, threads)?
        .telomere
        .unwrap_or_default())
}
