//! `agemark report`: the HTML report and MultiQC files of a results directory.

use agemark::cohort::{
    merge::{read_long_tsv, Linkage},
    pseudo::scrub_log,
    report,
};
use tracing::info;

use super::{
    merge::{load_key, sheet_for_merge},
    AppError,
};
use crate::cli::ReportArgs;

/// `agemark report`.
pub fn run(args: &ReportArgs) -> Result<(), AppError> {
    let key = load_key(args.pseudonymise.as_deref())?;
    let long = args.dir.join("cohort.long.tsv");
    if !long.is_file() {
        return Err(AppError::Usage(format!(
            "{}: no cohort.long.tsv: run `agemark merge ... -o {}` first",
            args.dir.display(),
            args.dir.join("cohort").display()
        )));
    }
    let mut cohort = read_long_tsv(&long).map_err(AppError::Failed)?;
    if let Some(p) = &args.samplesheet {
        let sheet = sheet_for_merge(p, key.as_ref())?;
        for s in &sheet.samples {
            if let Some(l) = cohort.linkage.get_mut(&s.sample_id) {
                *l = Linkage {
                    participant_id: s.participant_id.clone(),
                    family_id: s.family_id.clone(),
                    role: s.role.clone(),
                    sample_type: s.sample_type.clone(),
                    timepoint: s.timepoint.clone(),
                    age_years: s.age_years,
                    gestational_age_weeks: s.gestational_age_weeks,
                    sex: s.sex.clone(),
                };
            }
        }
    }
    agemark::tidy::prepare_output_dir(&args.output)?;
    report::write_report(&cohort, &args.output, "agemark cohort report")?;
    info!("wrote {}", scrub_log(&args.output.display().to_string()));
    let mq = args
        .multiqc_dir
        .clone()
        .unwrap_or_else(|| args.dir.join("multiqc"));
    for p in report::write_multiqc(&cohort, &mq)? {
        info!("wrote {}", scrub_log(&p.display().to_string()));
    }
    Ok(())
}
