//! agemark's integration tests in one binary (one link instead of sixteen): each module is
//! the spec of one command or peer comparison; `common` holds the shared helpers.
//! Tests that need a peer tool are `#[ignore]`d with the reason and run by CI
//! (`cargo test -- --include-ignored` in `.ci/run`).

mod arrays_install;
mod calls_cli;
mod celltypes_cli;
mod cli_help;
mod clocks_cli;
mod cohort_cli;
mod common;
mod golden;
mod idat_cli;
mod longreads_cli;
mod modbam_cli;
mod mtdna_cli;
mod nr3c1_cli;
mod peers_celltypes;
mod peers_clocks;
mod peers_idat;
mod peers_longreads;
mod peers_mtdna;
mod peers_qpcr;
mod peers_report;
mod peers_telomere;
mod qpcr_cli;
mod reliability;
mod sample_qc;
mod scores_cli;
mod telomere_cli;
mod threads;
mod workflows_nextflow;
