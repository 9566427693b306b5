//! `agemark reference list` (`agemark::pipelines::reference`).

use std::io::Write;

use agemark::{methylation::array::install, pipelines::reference::reference_list};

use super::AppError;
use crate::cli::{ReferenceArgs, ReferenceCommand};

/// `agemark reference`.
pub fn run(args: &ReferenceArgs) -> Result<(), AppError> {
    match &args.command {
        ReferenceCommand::Install(a) => {
            let platform = a.platform.and_then(super::methinput::platform);
            let dir = install::data_dir(a.data_dir.as_deref());
            let done = install::install(&a.files, platform, &a.sha256sums, &dir)?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            for l in done.lines {
                let _ = writeln!(out, "{l}");
            }
            Ok(())
        }
        ReferenceCommand::List(a) => {
            let lines = reference_list(a.models_dir.as_deref(), a.data_dir.as_deref())?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            for l in lines {
                let _ = writeln!(out, "{}", l.replace(['\n', '\r'], " "));
            }
            Ok(())
        }
    }
}
