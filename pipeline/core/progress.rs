//! Progress on stderr: bars on a terminal, plain periodic lines otherwise.
//!
//! The binary calls [`enable_bars`] when stderr is a terminal and logging is not quiet; from
//! then on every bar joins one [`indicatif::MultiProgress`], and log lines are written through
//! [`suspend`] (the binary's log writer does this), so a log line never breaks a bar. Without
//! bars (a file, a pipe, a batch job's log, the library in tests) a long read pass logs one
//! plain line every [`PLAIN_EVERY`] instead: bytes read, rate and ETA.
//!
//! Two kinds of progress: [`ByteProgress`] counts the input bytes a read pass has read
//! (compressed bytes, so the rate and ETA are exact for BAM/CRAM/gzip files), and the cohort
//! runner's job bar (jobs done of total, with the running jobs as its message).

use std::{
    io::Read,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex, OnceLock,
    },
    time::{Duration, Instant},
};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Without bars, a plain progress line at most this often (the environment variable
/// `AGEMARK_PROGRESS_EVERY`, in seconds, overrides it).
pub const PLAIN_EVERY: Duration = Duration::from_secs(30);

fn plain_every() -> Duration {
    static EVERY: OnceLock<Duration> = OnceLock::new();
    *EVERY.get_or_init(|| {
        std::env::var("AGEMARK_PROGRESS_EVERY")
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map_or(PLAIN_EVERY, Duration::from_secs_f64)
    })
}

static MULTI: OnceLock<MultiProgress> = OnceLock::new();

/// Draws bars on stderr from now on (call once, when stderr is a terminal).
pub fn enable_bars() {
    let _ = MULTI.set(MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
}

/// Whether bars are drawn.
pub fn bars_enabled() -> bool {
    MULTI.get().is_some()
}

/// Runs `f` (which writes to stderr) with the bars hidden, then redraws them.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    match MULTI.get() {
        Some(m) => m.suspend(f),
        None => f(),
    }
}

/// A bar that joins the shared set, or a hidden one when bars are off.
pub fn add_bar(bar: ProgressBar) -> ProgressBar {
    match MULTI.get() {
        Some(m) => m.add(bar),
        None => {
            bar.set_draw_target(ProgressDrawTarget::hidden());
            bar
        }
    }
}

/// The cohort runner's bar: jobs done of `total`, the running jobs as the message.
pub fn job_bar(total: u64) -> ProgressBar {
    let b = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} jobs  {wide_msg}")
    {
        b.set_style(style.progress_chars("=> "));
    }
    add_bar(b)
}

fn human_bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// Input bytes read by one pass over a file.
#[derive(Debug)]
pub struct ByteProgress {
    label: String,
    total: Option<u64>,
    read: AtomicU64,
    start: Instant,
    last_line: Mutex<Instant>,
    bar: ProgressBar,
}

impl ByteProgress {
    /// Progress of reading `label` (`total` bytes when known).
    pub fn new(label: &str, total: Option<u64>) -> ByteProgress {
        let bar = match total {
            Some(t) => {
                let b = ProgressBar::new(t);
                if let Ok(style) = ProgressStyle::with_template(
                    "{msg:20!} [{bar:30}] {decimal_bytes}/{decimal_total_bytes} {decimal_bytes_per_sec} ETA {eta}",
                ) {
                    b.set_style(style.progress_chars("=> "));
                }
                b
            }
            None => {
                let b = ProgressBar::new_spinner();
                if let Ok(style) = ProgressStyle::with_template(
                    "{msg:20!} {spinner} {decimal_bytes} {decimal_bytes_per_sec}",
                ) {
                    b.set_style(style);
                }
                b
            }
        };
        bar.set_message(label.to_string());
        let now = Instant::now();
        ByteProgress {
            label: label.to_string(),
            total,
            read: AtomicU64::new(0),
            start: now,
            last_line: Mutex::new(now),
            bar: add_bar(bar),
        }
    }

    /// Counts `n` more bytes read.
    pub fn add(&self, n: u64) {
        let read = self.read.fetch_add(n, Ordering::Relaxed) + n;
        if bars_enabled() {
            self.bar.set_position(read);
            return;
        }
        let Ok(mut last) = self.last_line.try_lock() else {
            return;
        };
        if last.elapsed() < plain_every() {
            return;
        }
        *last = Instant::now();
        tracing::info!("{}", self.line(read));
    }

    /// The plain progress line after `read` bytes.
    pub fn line(&self, read: u64) -> String {
        let secs = self.start.elapsed().as_secs_f64().max(1e-9);
        let rate = read as f64 / secs;
        match self.total {
            Some(t) if t > 0 => {
                let eta = if rate > 0.0 {
                    (t.saturating_sub(read)) as f64 / rate
                } else {
                    f64::INFINITY
                };
                format!(
                    "{}: {} of {} read ({:.0}%), {}/s, ETA {:.0} s",
                    self.label,
                    human_bytes(read as f64),
                    human_bytes(t as f64),
                    100.0 * read as f64 / t as f64,
                    human_bytes(rate),
                    eta
                )
            }
            _ => format!(
                "{}: {} read, {}/s",
                self.label,
                human_bytes(read as f64),
                human_bytes(rate)
            ),
        }
    }
}

impl Drop for ByteProgress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// A reader that counts what passes through it into a [`ByteProgress`].
#[derive(Debug)]
pub struct CountingReader<R> {
    inner: R,
    progress: ByteProgress,
}

impl<R> CountingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R, progress: ByteProgress) -> CountingReader<R> {
        CountingReader { inner, progress }
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.add(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_bytes_and_words_a_plain_line() {
        let p = ByteProgress::new("s.bam", Some(2_000_000));
        let mut r = CountingReader::new(&[7u8; 1000][..], p);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(r.progress.read.load(Ordering::Relaxed), 1000);
        let line = r.progress.line(1_000_000);
        assert!(
            line.starts_with("s.bam: 1.0 MB of 2.0 MB read (50%), "),
            "{line}"
        );
        assert!(line.contains("ETA"), "{line}");
        let q = ByteProgress::new("-", None);
        assert!(q.line(1500).starts_with("-: 1.5 kB read, "));
    }
}
