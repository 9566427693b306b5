//! `agemark qpcr` (`agemark::pipelines::qpcr`).

use agemark::qpcr::config::{parse_efficiency, parse_role, QpcrConfig};
use tracing::info;

use super::AppError;
use crate::cli::QpcrArgs;

/// `agemark qpcr`: the config file (if any), then the options given here on top of it.
pub fn run(args: &QpcrArgs) -> Result<(), AppError> {
    let mut cfg = match &args.config {
        Some(p) => QpcrConfig::read(p)?,
        None => QpcrConfig::default(),
    };
    cfg.plates.extend(args.plates.iter().cloned());
    if let Some(m) = &args.plate_map {
        cfg.plate_map = Some(m.clone());
    }
    let o = &mut cfg.options;
    for r in &args.role {
        let (name, role) = parse_role(r).map_err(|m| AppError::Usage(format!("--role {m}")))?;
        if let Some(old) = o.roles.insert(name.clone(), role) {
            if old != role {
                return Err(AppError::Usage(format!(
                    "--role {r}: {name} already has the role {}: one role per target",
                    old.name()
                )));
            }
        }
    }
    for e in &args.efficiency {
        let (t, v) =
            parse_efficiency(e).map_err(|m| AppError::Usage(format!("--efficiency {m}")))?;
        o.efficiency.insert(t, v);
    }
    if args.calibrator.is_some() {
        o.calibrator = args.calibrator.clone();
    }
    o.inter_run_calibrators
        .extend(args.inter_run_calibrator.iter().cloned());
    o.absolute |= args.absolute;
    if let Some(x) = args.max_cq {
        o.max_cq = x;
    }
    if let Some(x) = args.max_sd {
        o.max_sd = x;
    }
    for p in agemark::pipelines::qpcr::qpcr(&cfg, &args.output)? {
        info!("wrote {}", p.display());
    }
    Ok(())
}
