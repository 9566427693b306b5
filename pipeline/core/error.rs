//! Error categories, and the one error type a pipeline returns.
//!
//! Every layer keeps its own error type (`reads::ReadError`, `methylation::InputError`,
//! `cohort::samplesheet::SheetError`, `tidy::WriteError`, …), each reading as a path from the
//! file to the field. Each also names a [`Category`]: a short, stable word such as
//! `input.truncated` that is printed in the one-line message, written in the `category` column
//! of a cohort run's `failures.tsv`, and mapped to the process exit code
//! ([`Category::exit_code`], documented in README).
//!
//! A pipeline entry point (the functions the `agemark` binary calls) returns [`Error`], which
//! keeps the layer error as its [`source`](std::error::Error::source) and its category.

use std::{error::Error as StdError, fmt};

/// What kind of problem an error is: stable words for scripts and workflow managers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// An input ends early (a truncated BAM, gzip or IDAT).
    InputTruncated,
    /// An input is not in the format it claims, or a value in it is invalid.
    InputFormat,
    /// An input file is missing or cannot be opened.
    InputMissing,
    /// The input does not match the reference (CRAM MD5, genome build, contigs).
    ReferenceMismatch,
    /// The sample sheet (or a key file) is not usable.
    SheetInvalid,
    /// The arguments do not make sense (unknown option value, out of range).
    Usage,
    /// An output could not be written (disk full, permissions, a directory in the way).
    IoWrite,
    /// A bundled model or table failed its checks (checksum, structure).
    Reference,
    /// The work finished but some of it failed (a cohort run's failures).
    Failed,
    /// A bug in agemark: please report it.
    Internal,
}

impl Category {
    /// The word written in messages and in `failures.tsv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::InputTruncated => "input.truncated",
            Category::InputFormat => "input.format",
            Category::InputMissing => "input.missing",
            Category::ReferenceMismatch => "reference.mismatch",
            Category::SheetInvalid => "sheet.invalid",
            Category::Usage => "usage",
            Category::IoWrite => "io.write",
            Category::Reference => "reference.invalid",
            Category::Failed => "run.failed",
            Category::Internal => "internal",
        }
    }

    /// The process exit code of an error of this category (README, "Exit codes").
    pub fn exit_code(self) -> i32 {
        match self {
            Category::Usage => 2,
            Category::IoWrite => 3,
            Category::SheetInvalid => 4,
            Category::InputTruncated
            | Category::InputFormat
            | Category::InputMissing
            | Category::ReferenceMismatch => 1,
            Category::Reference => 5,
            Category::Failed => 1,
            Category::Internal => 70,
        }
    }

    /// The category of an I/O error met while reading an input.
    pub fn of_read_io(e: &std::io::Error) -> Category {
        match e.kind() {
            std::io::ErrorKind::UnexpectedEof => Category::InputTruncated,
            std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                Category::InputMissing
            }
            _ => Category::InputFormat,
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A layer error that knows its category.
pub trait Categorised: StdError + Send + Sync + 'static {
    /// The category of this error.
    fn category(&self) -> Category;
}

/// The error of a pipeline: a category and the layer error behind it.
pub struct Error {
    category: Category,
    inner: Box<dyn StdError + Send + Sync>,
}

impl Error {
    /// An error with its own message (argument checks, run summaries).
    pub fn new(category: Category, message: impl Into<String>) -> Error {
        Error {
            category,
            inner: Box::new(Message(message.into())),
        }
    }

    /// A usage error: the arguments do not make sense.
    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(Category::Usage, message)
    }

    /// A copy with the same category and message (for an error shared by several jobs).
    pub fn duplicate(&self) -> Error {
        Error::new(self.category, self.to_string())
    }

    /// The category.
    pub fn category(&self) -> Category {
        self.category
    }

    /// The exit code of this error.
    pub fn exit_code(&self) -> i32 {
        self.category.exit_code()
    }
}

impl<E: Categorised> From<E> for Error {
    fn from(e: E) -> Error {
        Error {
            category: e.category(),
            inner: Box::new(e),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {:?}", self.category, self.inner)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(self.inner.as_ref())
    }
}

/// A plain message (the error of [`Error::new`]).
#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Message {}

/// The category of a located input error from its message: missing files, truncation and
/// failed checksums have their own words; everything else is a format problem.
pub fn category_of_input_message(message: &str) -> Category {
    let m = message.to_ascii_lowercase();
    if m.contains("no such file") || m.contains("cannot open") || m.contains("permission denied") {
        Category::InputMissing
    } else if m.contains("truncated") || m.contains("unexpected end") {
        Category::InputTruncated
    } else if m.contains("sha256") || m.contains("checksum") {
        Category::Reference
    } else {
        Category::InputFormat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_have_distinct_words_and_documented_exit_codes() {
        let all = [
            Category::InputTruncated,
            Category::InputFormat,
            Category::InputMissing,
            Category::ReferenceMismatch,
            Category::SheetInvalid,
            Category::Usage,
            Category::IoWrite,
            Category::Reference,
            Category::Failed,
            Category::Internal,
        ];
        let words: std::collections::BTreeSet<&str> = all.iter().map(|c| c.as_str()).collect();
        assert_eq!(words.len(), all.len());
        assert_eq!(Category::Usage.exit_code(), 2);
        assert_eq!(Category::IoWrite.exit_code(), 3);
        let e = Error::usage("-k 0: must be between 1 and 16");
        assert_eq!(e.to_string(), "-k 0: must be between 1 and 16");
        assert_eq!(e.exit_code(), 2);
    }
}
