//! Read inputs (BAM, CRAM, SAM, FASTQ, stdin) and the one-pass engine that feeds every
//! read-based stage from a single decode.

pub mod bgzf_chunks;
pub mod engine;
pub mod error;
pub mod indexed;
pub mod input;
pub mod modbam;
pub mod view;

pub use engine::{
    install_panic_filter, run_pass, run_stages, take_acc, ErasedStage, PassStats, ReadStage,
};
pub use error::ReadError;
pub use input::{open, Format, InputInfo, InputSpec, ReadGroup, ReadSource};
pub use view::ReadView;
