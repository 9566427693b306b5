//! `agemark reference list` (`agemark::pipelines::reference`).

use std::io::Write;

use agemark::pipelines::reference::reference_list;

use super::AppError;
use crate::cli::{ReferenceArgs, ReferenceCommand};

/// `agemark reference`.
pub fn run(args: &ReferenceArgs) -> Result<(), AppError> {
    match &args.command {
        ReferenceCommand::List(a) => {
            let lines = reference_list(a.models_dir.as_deref())?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            for l in lines {
                let _ = writeln!(out, "{}", l.replace(['\n', '\r'], " "));
            }
            Ok(())
        }
    }
}
