//! The read layer's one error type: a path from the file to the record to the field.

use std::{fmt, io};

use crate::core::{
    error::{Categorised, Category},
    thousands,
};

/// What went wrong while reading an input, and where.
#[derive(Debug)]
pub struct ReadError {
    /// The input file as the user named it (`-` shown as `stdin`).
    pub path: String,
    /// 1-based record number, when the problem is inside a record.
    pub record: Option<u64>,
    /// What is wrong, in lower-case words.
    pub message: String,
    /// What kind of problem it is (exit code, `failures.tsv`).
    pub category: Category,
}

impl ReadError {
    /// An error about the file as a whole (category [`Category::InputFormat`]; see
    /// [`Self::with_category`]).
    pub fn file(path: &str, message: impl Into<String>) -> Self {
        ReadError {
            path: display_path(path),
            record: None,
            message: message.into(),
            category: Category::InputFormat,
        }
    }

    /// An error at a record (category [`Category::InputFormat`]).
    pub fn record(path: &str, record: u64, message: impl Into<String>) -> Self {
        ReadError {
            path: display_path(path),
            record: Some(record),
            message: message.into(),
            category: Category::InputFormat,
        }
    }

    /// An I/O error, worded for people ("truncated file" rather than "failed to fill whole buffer").
    pub fn io(path: &str, record: Option<u64>, e: &io::Error) -> Self {
        let message = describe_io(e);
        ReadError {
            path: display_path(path),
            record,
            message,
            category: Category::of_read_io(e),
        }
    }

    /// The same error with another category.
    pub fn with_category(mut self, category: Category) -> Self {
        self.category = category;
        self
    }
}

fn display_path(path: &str) -> String {
    if path == "-" {
        "stdin".to_string()
    } else {
        path.to_string()
    }
}

/// Human wording of an I/O error from a decoder.
pub fn describe_io(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => "truncated file (unexpected end of data)".to_string(),
        io::ErrorKind::NotFound => "no such file".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let s = e.to_string();
            if s.is_empty() {
                format!("{:?}", e.kind()).to_lowercase()
            } else {
                s
            }
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.record {
            Some(n) => write!(
                f,
                "{}: record {}: {}",
                self.path,
                thousands(n),
                self.message
            ),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

impl std::error::Error for ReadError {}

impl Categorised for ReadError {
    fn category(&self) -> Category {
        self.category
    }
}
