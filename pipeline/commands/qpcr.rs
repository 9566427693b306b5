//! `agemark qpcr` (`agemark::pipelines::qpcr`).

use agemark::qpcr::{QpcrOptions, Role};
use tracing::info;

use super::AppError;
use crate::cli::QpcrArgs;

/// `agemark qpcr`.
pub fn run(args: &QpcrArgs) -> Result<(), AppError> {
    let mut opts = QpcrOptions {
        calibrator: args.calibrator.clone(),
        max_cq: args.max_cq,
        max_sd: args.max_sd,
        ..QpcrOptions::default()
    };
    for r in &args.role {
        let Some((name, role)) = r.split_once('=') else {
            return Err(AppError::Usage(format!(
                "--role {r}: give NAME=telomere|single_copy|mtdna"
            )));
        };
        let role = Role::parse(role).ok_or_else(|| {
            AppError::Usage(format!(
                "--role {r}: '{role}' is not telomere, single_copy or mtdna"
            ))
        })?;
        opts.roles.insert(name.to_string(), role);
    }
    for e in &args.efficiency {
        let parsed = e
            .split_once('=')
            .and_then(|(t, v)| Some((t.to_string(), v.parse::<f64>().ok()?)))
            .filter(|(_, v)| (0.5..=1.5).contains(v));
        let Some((t, v)) = parsed else {
            return Err(AppError::Usage(format!(
                "--efficiency {e}: give TARGET=E with E a fraction between 0.5 and 1.5 (1 = 100 %)"
            )));
        };
        opts.efficiency.insert(t, v);
    }
    for p in agemark::pipelines::qpcr::qpcr(
        &args.plates,
        args.plate_map.as_deref(),
        &args.output,
        &opts,
    )? {
        info!("wrote {}", p.display());
    }
    Ok(())
}
