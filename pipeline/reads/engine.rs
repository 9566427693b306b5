//! The one-pass engine: one decode of the input feeds every registered [`ReadStage`].
//!
//! A producer thread pulls raw records (BAM records, SAM lines, FASTQ records, or whole CRAM
//! containers) from the decoder into batches and hands them over a bounded channel to
//! `threads` rayon workers. Each worker turns a batch into [`ReadView`]s once (unpacking bases,
//! decoding CRAM slices) and passes the same views to every stage's per-worker accumulator.
//! At the end the accumulators are merged in worker order. Stages accumulate integer counts, so
//! the result does not depend on the number of threads.
//!
//! Memory bound: at most `3 × threads + 2` batches exist at once (queued, being processed and
//! recycled). A SAM, FASTQ or htslib batch holds at most [`BATCH_RECORDS`] records and stops
//! early once it holds [`BATCH_BASES`] bases, so the read pass needs roughly
//! `(3 × threads + 2) × 2 × BATCH_BASES` bytes (≈ 64 MiB at 2 threads), whatever the file size.
//! A BAM batch is one inflated chunk of the BGZF stream (≈ 1 MiB, see [`super::bgzf_chunks`])
//! taken whole, with its records framed in place (plus, before them, the start of a record the
//! previous chunk cut); with the inflate buffers in flight that is ≈ 20 MiB at 2 threads (peak
//! RSS on a 2 GB BAM: 30–36 MB). When no stage asks for base codes
//! ([`ReadStage::needs_codes`]), bases and names reach the stages where they lie in the chunk,
//! packed. A CRAM batch is one container (typically 10,000 reads). With the `htslib` feature,
//! a CRAM file is decoded by htslib's own threads and batched like SAM records.

use std::{
    any::Any,
    collections::HashMap,
    io,
    sync::{
        atomic::{AtomicBool, Ordering},
        Mutex,
    },
    time::Instant,
};

use crossbeam_channel::{bounded, Receiver, Sender};
use noodles_bam as bam;
use noodles_cram as cram;
use noodles_fasta as fasta;
use noodles_fastq as fastq;
use noodles_sam as sam;

use crate::{
    core::{error::Category, Provenance},
    tidy::Row,
};

use super::{
    bgzf_chunks::InflateQueue,
    error::{describe_io, ReadError},
    input::{Decoder, InputInfo, ReadSource},
    view::{encode_ascii_sequence, flags, unpack_bam_sequence, CigarOp, ReadView},
};

/// Records per batch at most.
pub const BATCH_RECORDS: usize = 4096;
/// Bases per batch at most (long reads make smaller batches).
pub const BATCH_BASES: usize = 4 << 20;

/// A read-based stage: accumulates over batches of reads, per worker; partial accumulators are
/// merged at the end.
pub trait ReadStage: Sync {
    /// Per-worker state.
    type Acc: Send + 'static;
    /// A fresh accumulator.
    fn accumulator(&self) -> Self::Acc;
    /// Updates an accumulator with a batch of reads (in input order).
    fn observe(&self, acc: &mut Self::Acc, reads: &[ReadView<'_>]);
    /// Merges `from` into `into`.
    fn merge(&self, into: &mut Self::Acc, from: Self::Acc);
    /// Whether the stage reads [`ReadView::seq`]. When no stage of a pass does, BAM bases are
    /// handed over packed ([`ReadView::packed`]), saving the unpacking of every read.
    fn needs_codes(&self) -> bool {
        true
    }
    /// Whether the stage reads the base-modification tags ([`ReadView::mm`], [`ReadView::ml`]);
    /// they are copied out of each record only when some stage of the pass does.
    fn needs_mods(&self) -> bool {
        false
    }
    /// Turns the merged accumulator of a finished pass into the stage's rows.
    fn finish(&self, acc: Self::Acc, info: &InputInfo, prov: &Provenance) -> Vec<Row>;
}

/// Object-safe form of [`ReadStage`], so one pass can run stages of different types.
pub trait ErasedStage: Sync {
    /// A fresh, boxed accumulator.
    fn new_acc(&self) -> Box<dyn Any + Send>;
    /// Updates a boxed accumulator.
    fn observe_boxed(&self, acc: &mut (dyn Any + Send), reads: &[ReadView<'_>]);
    /// Merges two boxed accumulators.
    fn merge_boxed(&self, into: &mut (dyn Any + Send), from: Box<dyn Any + Send>);
    /// See [`ReadStage::needs_codes`].
    fn needs_codes_erased(&self) -> bool;
    /// See [`ReadStage::needs_mods`].
    fn needs_mods_erased(&self) -> bool;
    /// See [`ReadStage::finish`].
    fn finish_boxed(
        &self,
        acc: Box<dyn Any + Send>,
        info: &InputInfo,
        prov: &Provenance,
    ) -> Vec<Row>;
}

impl<S: ReadStage> ErasedStage for S {
    fn new_acc(&self) -> Box<dyn Any + Send> {
        Box::new(self.accumulator())
    }
    fn observe_boxed(&self, acc: &mut (dyn Any + Send), reads: &[ReadView<'_>]) {
        let acc = acc
            .downcast_mut::<S::Acc>()
            .expect("accumulator type matches its stage");
        self.observe(acc, reads);
    }
    fn merge_boxed(&self, into: &mut (dyn Any + Send), from: Box<dyn Any + Send>) {
        let into = into
            .downcast_mut::<S::Acc>()
            .expect("accumulator type matches its stage");
        let from = *from
            .downcast::<S::Acc>()
            .expect("accumulator type matches its stage");
        self.merge(into, from);
    }
    fn needs_codes_erased(&self) -> bool {
        self.needs_codes()
    }
    fn needs_mods_erased(&self) -> bool {
        self.needs_mods()
    }
    fn finish_boxed(
        &self,
        acc: Box<dyn Any + Send>,
        info: &InputInfo,
        prov: &Provenance,
    ) -> Vec<Row> {
        self.finish(take_acc(self, acc), info, prov)
    }
}

/// Takes a merged accumulator back out of a pass result.
pub fn take_acc<S: ReadStage>(_stage: &S, acc: Box<dyn Any + Send>) -> S::Acc {
    *acc.downcast::<S::Acc>()
        .expect("accumulator type matches its stage")
}

/// What a pass saw, beyond what the stages count.
#[derive(Clone, Debug, Default)]
pub struct PassStats {
    /// Records decoded.
    pub records: u64,
    /// Wall-clock seconds of the pass.
    pub seconds: f64,
}

enum Raw {
    Bam(BamFrames),
    Sam(Vec<sam::Record>),
    Cram(Box<cram::io::reader::Container>),
    /// CRAM records decoded by htslib (`htslib` feature).
    #[cfg(feature = "htslib")]
    Hts(Vec<rust_htslib::bam::Record>),
    Fastq(Vec<fastq::Record>),
}

/// BAM records of a batch: an inflated chunk of the stream, taken whole, and where its records
/// are in it (see [`frame_bam_records`]).
#[derive(Default)]
struct BamFrames {
    /// The inflated bytes (a buffer of [`super::bgzf_chunks::ChunkedBgzfReader`]).
    data: Vec<u8>,
    /// Each record's bytes in `data`, without its `block_size` prefix.
    records: Vec<(usize, usize)>,
}

impl BamFrames {
    fn record(&self, i: usize) -> &[u8] {
        let (start, end) = self.records[i];
        &self.data[start..end]
    }
}

/// How far ahead of the record being framed [`frame_bam_records`] asks for the chunk's bytes:
/// the chunk was just inflated on another core, and waiting for each record's first cache line
/// took three quarters of the framing time (perf).
const PREFETCH_AHEAD: usize = 2048;

/// Asks the CPU to bring `data[at]` into its cache (a hint; nothing on other architectures).
#[inline(always)]
fn prefetch(data: &[u8], at: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(b) = data.get(at) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch is a hint that never faults; SSE is part of the x86-64 baseline.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(b).cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (data, at);
}

/// Frames the BAM records in `data[start..end]` into `records` (ranges without the `block_size`
/// prefixes) and returns where the unframed rest (an incomplete record) starts, the bases of the
/// framed records and whether a zero `block_size` (as noodles: the end of the records) was met.
///
/// This is noodles-bam's `Reader::read_record` without a per-record buffer or copy: the records
/// stay in the inflated chunk, which the workers view with [`bam::RecordRef`]. A record is
/// checked as noodles checks it (the fixed 32-byte part, then name, CIGAR, bases and qualities
/// must fit in `block_size`) before it is accepted, so a corrupt record stops the pass at its own
/// record number (`Err(i)`: the `i`-th record framed here) with the error noodles gives. The
/// three length fields are read from the fixed part directly (little-endian, at the offsets of
/// the SAM specification §4.2) because `RecordRef` trusts them and slices with them.
fn frame_bam_records(
    data: &[u8],
    start: usize,
    end: usize,
    records: &mut Vec<(usize, usize)>,
) -> Result<(usize, usize, bool), usize> {
    let mut pos = start;
    let mut bases = 0;
    while end - pos >= 4 {
        prefetch(data, pos + PREFETCH_AHEAD);
        let block_size =
            u32::from_le_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]) as usize;
        if block_size == 0 {
            return Ok((pos, bases, true));
        }
        if end - pos - 4 < block_size {
            break;
        }
        let rec = &data[pos + 4..pos + 4 + block_size];
        if rec.len() < 32 {
            return Err(records.len());
        }
        let name_len = usize::from(rec[8]);
        let cigar_ops = usize::from(u16::from_le_bytes([rec[12], rec[13]]));
        let n = u32::from_le_bytes([rec[16], rec[17], rec[18], rec[19]]) as usize;
        if rec.len() < 32 + name_len + 4 * cigar_ops + n.div_ceil(2) + n {
            return Err(records.len());
        }
        records.push((pos + 4, pos + 4 + block_size));
        bases += n;
        pos += 4 + block_size;
    }
    Ok((pos, bases, false))
}

struct Batch {
    /// 1-based number of the batch's first record.
    first: u64,
    /// Records filled (for vectors, which are reused and may be longer).
    len: usize,
    raw: Raw,
    /// FASTQ only: records alternate first/second of a pair.
    paired: bool,
}

/// Read-only context shared by the workers.
struct DecodeCtx<'a> {
    path: &'a str,
    header: &'a sam::Header,
    repository: &'a fasta::Repository,
    rg_index: &'a HashMap<Vec<u8>, usize>,
    has_reference: bool,
    /// Some stage needs base codes: BAM bases are unpacked (else copied packed).
    codes: bool,
    /// Some stage reads the base-modification tags (`MM`/`ML`).
    mods: bool,
}

/// A BAM record's reference id, refused when the header has no such reference (samtools
/// refuses the file too; the read would otherwise be dropped silently).
fn checked_tid(
    ctx: &DecodeCtx<'_>,
    record: u64,
    tid: Option<usize>,
    what: &str,
) -> Result<Option<usize>, ReadError> {
    match tid {
        Some(t) if t >= ctx.header.reference_sequences().len() => Err(ReadError::record(
            ctx.path,
            record,
            format!(
                "{what} {t} is out of range: the header has {} reference sequences",
                ctx.header.reference_sequences().len()
            ),
        )),
        t => Ok(t),
    }
}

/// Per-worker reusable buffers.
#[derive(Default)]
struct Scratch {
    seq: Vec<u8>,
    /// `MM` strings then `ML` bytes of the batch's reads (when a stage asked for them).
    mods: Vec<u8>,
    packed: Vec<u8>,
    names: Vec<u8>,
    cigar: Vec<CigarOp>,
    spans: Vec<Span>,
}

#[derive(Clone, Copy)]
struct Span {
    record: u64,
    name: (usize, usize),
    flags: u16,
    tid: Option<usize>,
    pos: Option<u64>,
    mapq: u8,
    mate_tid: Option<usize>,
    mate_pos: Option<u64>,
    read_group: Option<usize>,
    seq: (usize, usize),
    packed: (usize, usize),
    len: usize,
    cigar: (usize, usize),
    /// `MM` and `ML` ranges of `Scratch::mods`.
    mm: (usize, usize),
    ml: (usize, usize),
    /// `name` and `packed` are ranges of the batch's BAM record bytes (not copied into the
    /// scratch buffers).
    in_frame: bool,
}

/// Runs one pass over `source`, feeding every stage, and finishes each: returns the rows of
/// every stage, in stage order, and what the pass saw.
pub fn run_stages(
    source: ReadSource,
    stages: &[&dyn ErasedStage],
    prov: &Provenance,
    threads: usize,
) -> Result<(Vec<Vec<Row>>, PassStats), ReadError> {
    let info = source.info.clone();
    let (accs, stats) = run_pass(source, stages, threads)?;
    let rows = stages
        .iter()
        .zip(accs)
        .map(|(stage, acc)| stage.finish_boxed(acc, &info, prov))
        .collect();
    Ok((rows, stats))
}

/// Runs one pass over `source`, feeding every stage; returns the merged accumulators in
/// stage order (see [`run_stages`] for the finished rows).
pub fn run_pass(
    source: ReadSource,
    stages: &[&dyn ErasedStage],
    threads: usize,
) -> Result<(Vec<Box<dyn Any + Send>>, PassStats), ReadError> {
    let started = Instant::now();
    let threads = threads.max(1);
    let ReadSource {
        spec,
        decoder,
        sam_header,
        repository,
        read_group_index,
        inflate,
        ..
    } = source;
    let path = spec.path.clone();
    let ctx = DecodeCtx {
        path: &path,
        header: &sam_header,
        repository: &repository,
        rg_index: &read_group_index,
        has_reference: spec.reference.is_some(),
        codes: stages.iter().any(|s| s.needs_codes_erased()),
        mods: stages.iter().any(|s| s.needs_mods_erased()),
    };
    let (tx, rx) = bounded::<Batch>(threads * 2);
    let path_for_producer = path.clone();
    let (recycle_tx, recycle_rx) = bounded::<Batch>(threads + 2);
    let cancel = AtomicBool::new(false);
    let cancel_ref = &cancel;
    let first_error: Mutex<Option<ReadError>> = Mutex::new(None);
    // Each worker's index and its merged accumulators.
    type WorkerAccs = Vec<(usize, Vec<Box<dyn Any + Send>>)>;
    let results: Mutex<WorkerAccs> = Mutex::new(Vec::new());
    let mut records = 0u64;

    let report = |e: ReadError| {
        let mut slot = first_error.lock().unwrap_or_else(|p| p.into_inner());
        let earlier = match (&*slot, e.record) {
            (None, _) => true,
            (Some(old), Some(n)) => old.record.is_none_or(|o| n < o),
            (Some(_), None) => false,
        };
        if earlier {
            *slot = Some(e);
        }
        cancel.store(true, Ordering::SeqCst);
    };

    // Threads: the producer decodes on the caller's thread, and `threads` workers of the global
    // rayon pool process batches and, between batches, run the producer's BGZF inflate jobs
    // (`inflate`): the pass has no pool of its own. Called on a pool worker (a cohort run's
    // job), the producer gets a thread of its own instead, so that this worker can wait for the
    // pass's workers by running them (as `rayon::scope` does).
    let produce_all = move || {
        let r = produce(decoder, &path_for_producer, &tx, &recycle_rx, cancel_ref);
        drop(tx);
        r
    };
    let mut here = Some(produce_all);
    let mut producer_result: Option<std::thread::Result<Result<u64, ReadError>>> = None;
    std::thread::scope(|ts| {
        let elsewhere = if rayon::current_thread_index().is_some() {
            here.take().map(|f| ts.spawn(f))
        } else {
            None
        };
        rayon::in_place_scope(|s| {
            for worker in 0..threads {
                let rx: Receiver<Batch> = rx.clone();
                let recycle_tx: Sender<Batch> = recycle_tx.clone();
                let jobs = inflate.clone();
                let (ctx, cancel, results, report) = (&ctx, &cancel, &results, &report);
                s.spawn(move |_| {
                    let mut accs: Vec<Box<dyn Any + Send>> =
                        stages.iter().map(|s| s.new_acc()).collect();
                    let mut scratch = Scratch::default();
                    while let Some(batch) = next_batch(&rx, &jobs) {
                        if cancel.load(Ordering::Relaxed) {
                            continue;
                        }
                        match decode(ctx, &batch, &mut scratch) {
                            Ok(()) => {
                                let frame = match &batch.raw {
                                    Raw::Bam(f) => f.data.as_slice(),
                                    _ => &[],
                                };
                                let views = make_views(&scratch, frame);
                                for (stage, acc) in stages.iter().zip(accs.iter_mut()) {
                                    stage.observe_boxed(acc.as_mut(), &views);
                                }
                            }
                            Err(e) => report(e),
                        }
                        let _ = recycle_tx.try_send(batch);
                    }
                    results
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((worker, accs));
                });
            }
            drop(rx);
            if let Some(f) = here.take() {
                producer_result = Some(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
            }
        });
        if let Some(h) = elsewhere {
            producer_result = Some(h.join());
        }
    });
    match producer_result {
        Some(Ok(Ok(n))) => records = n,
        Some(Ok(Err(e))) => report(e),
        Some(Err(_)) | None => report(ReadError::file(
            &path,
            "internal error: the decoder thread panicked",
        )),
    }

    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let mut parts = results.into_inner().unwrap_or_else(|p| p.into_inner());
    parts.sort_by_key(|(w, _)| *w);
    let mut merged: Vec<Box<dyn Any + Send>> = stages.iter().map(|s| s.new_acc()).collect();
    for (_, accs) in parts {
        for ((stage, into), from) in stages.iter().zip(merged.iter_mut()).zip(accs) {
            stage.merge_boxed(into.as_mut(), from);
        }
    }
    Ok((
        merged,
        PassStats {
            records,
            seconds: started.elapsed().as_secs_f64(),
        },
    ))
}

/// The next batch for a worker, running the producer's inflate jobs first (the producer waits
/// on them); `None` once the producer is done.
fn next_batch(rx: &Receiver<Batch>, jobs: &InflateQueue) -> Option<Batch> {
    let mut job_rx = jobs.receiver().clone();
    loop {
        jobs.run_pending();
        if let Ok(b) = rx.try_recv() {
            return Some(b);
        }
        crossbeam_channel::select! {
            recv(rx) -> b => return b.ok(),
            recv(job_rx) -> job => match job {
                Ok(job) => job(),
                Err(_) => job_rx = crossbeam_channel::never(),
            },
        }
    }
}

fn produce(
    mut decoder: Decoder,
    path: &str,
    tx: &Sender<Batch>,
    recycle: &Receiver<Batch>,
    cancel: &AtomicBool,
) -> Result<u64, ReadError> {
    let mut n: u64 = 0;
    // BAM: the bytes of a record cut by a chunk boundary, and whether the records ended.
    let mut carry: Vec<u8> = Vec::new();
    let mut bam_ended = false;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Ok(n);
        }
        let first = n + 1;
        let mut batch = recycle.try_recv().ok();
        let batch = match &mut decoder {
            Decoder::Bam(reader) => {
                let inflated = reader.get_mut();
                let mut frames = match batch.take().map(|b| b.raw) {
                    Some(Raw::Bam(f)) => f,
                    _ => BamFrames::default(),
                };
                inflated.recycle(std::mem::take(&mut frames.data));
                frames.records.clear();
                // Chunks until one holds a whole record (a long read may span several).
                while frames.records.is_empty() && !bam_ended {
                    let record = n + 1;
                    let (mut data, mut start, mut end) = match inflated.take_chunk() {
                        Ok(Some(c)) => c,
                        Ok(None) if carry.is_empty() => break,
                        Ok(None) => {
                            let e = io::Error::from(io::ErrorKind::UnexpectedEof);
                            return Err(ReadError::io(path, Some(record), &e));
                        }
                        Err(e) => return Err(ReadError::io(path, Some(record), &e)),
                    };
                    // The start of a record cut by the chunk boundary goes in front of its rest:
                    // into the chunk's headroom, or (a record longer than that) a new buffer.
                    if !carry.is_empty() {
                        if start >= carry.len() {
                            start -= carry.len();
                            data[start..start + carry.len()].copy_from_slice(&carry);
                        } else {
                            let mut joined = Vec::with_capacity(carry.len() + end - start);
                            joined.extend_from_slice(&carry);
                            joined.extend_from_slice(&data[start..end]);
                            inflated.recycle(std::mem::replace(&mut data, joined));
                            (start, end) = (0, data.len());
                        }
                        carry.clear();
                    }
                    match frame_bam_records(&data, start, end, &mut frames.records) {
                        Ok((rest, _, ended)) => {
                            bam_ended = ended;
                            if !ended {
                                carry.extend_from_slice(&data[rest..end]);
                            }
                        }
                        Err(i) => {
                            let e = io::Error::from(io::ErrorKind::UnexpectedEof);
                            return Err(ReadError::io(path, Some(n + i as u64 + 1), &e));
                        }
                    }
                    if frames.records.is_empty() {
                        inflated.recycle(data);
                    } else {
                        frames.data = data;
                    }
                }
                let len = frames.records.len();
                n += len as u64;
                Batch {
                    first,
                    len,
                    raw: Raw::Bam(frames),
                    paired: false,
                }
            }
            Decoder::Sam(reader) => {
                let mut recs = match batch.take().map(|b| b.raw) {
                    Some(Raw::Sam(v)) => v,
                    _ => Vec::new(),
                };
                let (mut len, mut bases) = (0usize, 0usize);
                while len < BATCH_RECORDS && bases < BATCH_BASES {
                    if recs.len() == len {
                        recs.push(sam::Record::default());
                    }
                    match reader.read_record(&mut recs[len]) {
                        Ok(0) => break,
                        Ok(_) => {
                            bases += recs[len].sequence().len();
                            len += 1;
                        }
                        Err(e) => {
                            return Err(ReadError::record(
                                path,
                                n + len as u64 + 1,
                                format!("invalid SAM record: {}", describe_io(&e)),
                            ))
                        }
                    }
                }
                n += len as u64;
                Batch {
                    first,
                    len,
                    raw: Raw::Sam(recs),
                    paired: false,
                }
            }
            Decoder::Cram(reader) => {
                let mut container = Box::<cram::io::reader::Container>::default();
                match reader.read_container(&mut container) {
                    Ok(0) => Batch {
                        first,
                        len: 0,
                        raw: Raw::Cram(container),
                        paired: false,
                    },
                    Ok(_) => {
                        let count = u64::try_from(container.header().record_count()).unwrap_or(0);
                        n += count;
                        Batch {
                            first,
                            len: count as usize,
                            raw: Raw::Cram(container),
                            paired: false,
                        }
                    }
                    Err(e) => return Err(ReadError::io(path, Some(first), &e)),
                }
            }
            #[cfg(feature = "htslib")]
            Decoder::HtsCram(reader) => {
                use super::input::hts::HtsRead;
                let mut recs = match batch.take().map(|b| b.raw) {
                    Some(Raw::Hts(v)) => v,
                    _ => Vec::new(),
                };
                let (mut len, mut bases) = (0usize, 0usize);
                while len < BATCH_RECORDS && bases < BATCH_BASES {
                    if recs.len() == len {
                        recs.push(rust_htslib::bam::Record::new());
                    }
                    match reader.read_into(&mut recs[len]) {
                        HtsRead::Record => {
                            bases += recs[len].seq_len();
                            len += 1;
                        }
                        HtsRead::End => break,
                        HtsRead::Truncated => {
                            return Err(explain_hts_error(
                                path,
                                reader.reference.as_deref(),
                                n + len as u64 + 1,
                                true,
                            ))
                        }
                        HtsRead::Failed => {
                            return Err(explain_hts_error(
                                path,
                                reader.reference.as_deref(),
                                n + len as u64 + 1,
                                false,
                            ))
                        }
                    }
                }
                n += len as u64;
                Batch {
                    first,
                    len,
                    raw: Raw::Hts(recs),
                    paired: false,
                }
            }
            Decoder::Fasta(reader) => {
                let mut recs = match batch.take().map(|b| b.raw) {
                    Some(Raw::Fastq(v)) => v,
                    _ => Vec::new(),
                };
                let (mut len, mut bases) = (0usize, 0usize);
                while len + 1 < BATCH_RECORDS && bases < BATCH_BASES {
                    if recs.len() == len {
                        recs.push(fastq::Record::default());
                    }
                    let recno = n + len as u64 + 1;
                    if !read_fasta_record(reader, &mut recs[len])
                        .map_err(|e| ReadError::io(path, Some(recno), &e))?
                    {
                        break;
                    }
                    if n + len as u64 == 0 && recs[len].name().is_empty() {
                        return Err(ReadError::record(
                            path,
                            recno,
                            "a FASTA record without a name",
                        ));
                    }
                    bases += recs[len].sequence().len();
                    len += 1;
                }
                n += len as u64;
                Batch {
                    first,
                    len,
                    raw: Raw::Fastq(recs),
                    paired: false,
                }
            }
            Decoder::Fastq {
                r1,
                r2,
                interleaved,
            } => {
                let mut recs = match batch.take().map(|b| b.raw) {
                    Some(Raw::Fastq(v)) => v,
                    _ => Vec::new(),
                };
                let (mut len, mut bases) = (0usize, 0usize);
                let two_files = r2.is_some();
                let paired = two_files || *interleaved;
                'fill: while len + 1 < BATCH_RECORDS && bases < BATCH_BASES {
                    // Pairs (two files or interleaved) are read whole, so a batch never splits one.
                    let take = if paired { 2 } else { 1 };
                    for k in 0..take {
                        if recs.len() == len {
                            recs.push(fastq::Record::default());
                        }
                        let (reader, name) = match (k, r2.as_mut()) {
                            (1, Some((p2, rd2))) => (rd2, p2.as_str()),
                            _ => (&mut *r1, path),
                        };
                        let recno = if two_files {
                            (n + len as u64) / 2 + 1
                        } else {
                            n + len as u64 + 1
                        };
                        match reader.read_record(&mut recs[len]) {
                            Ok(0) => {
                                if k == 1 && !two_files {
                                    return Err(ReadError::record(name, recno - 1, "this read has no mate: --interleaved, but the file holds an odd number of records"));
                                }
                                if k == 1 {
                                    return Err(ReadError::record(name, recno, "this file ended before the first read file: the pair files have different numbers of reads"));
                                }
                                if two_files {
                                    // r1 ended: r2 must end too.
                                    let mut probe = fastq::Record::default();
                                    if let Some((p2, rd2)) = r2.as_mut() {
                                        if rd2
                                            .read_record(&mut probe)
                                            .map_err(|e| ReadError::io(p2, Some(recno), &e))?
                                            > 0
                                        {
                                            return Err(ReadError::record(
                                                p2,
                                                recno,
                                                "this file has more reads than the first read file",
                                            ));
                                        }
                                    }
                                }
                                break 'fill;
                            }
                            Ok(_) => {
                                let rec = &recs[len];
                                if rec.sequence().len() != rec.quality_scores().len() {
                                    return Err(ReadError::record(
                                        name,
                                        recno,
                                        format!(
                                            "read '{}' has {} bases but {} quality scores",
                                            String::from_utf8_lossy(rec.name()),
                                            rec.sequence().len(),
                                            rec.quality_scores().len()
                                        ),
                                    ));
                                }
                                bases += rec.sequence().len();
                                len += 1;
                            }
                            Err(e) => {
                                return Err(ReadError::record(
                                    name,
                                    recno,
                                    format!("invalid FASTQ record: {}", describe_io(&e)),
                                ))
                            }
                        }
                    }
                }
                n += len as u64;
                Batch {
                    first,
                    len,
                    raw: Raw::Fastq(recs),
                    paired,
                }
            }
        };
        if batch.len == 0 {
            return Ok(n);
        }
        if tx.send(batch).is_err() {
            return Ok(n);
        }
    }
}

/// The views of a decoded batch; `frame` is the batch's BAM record bytes, which spans marked
/// `in_frame` point into.
fn make_views<'a>(scratch: &'a Scratch, frame: &'a [u8]) -> Vec<ReadView<'a>> {
    scratch
        .spans
        .iter()
        .map(|s| ReadView {
            record: s.record,
            name: if s.in_frame {
                &frame[s.name.0..s.name.1]
            } else {
                &scratch.names[s.name.0..s.name.1]
            },
            flags: s.flags,
            tid: s.tid,
            pos: s.pos,
            mapq: s.mapq,
            mate_tid: s.mate_tid,
            mate_pos: s.mate_pos,
            read_group: s.read_group,
            len: s.len,
            seq: &scratch.seq[s.seq.0..s.seq.1],
            packed: if s.in_frame {
                &frame[s.packed.0..s.packed.1]
            } else {
                &scratch.packed[s.packed.0..s.packed.1]
            },
            cigar: &scratch.cigar[s.cigar.0..s.cigar.1],
            mm: &scratch.mods[s.mm.0..s.mm.1],
            ml: &scratch.mods[s.ml.0..s.ml.1],
        })
        .collect()
}

fn decode(ctx: &DecodeCtx<'_>, batch: &Batch, scratch: &mut Scratch) -> Result<(), ReadError> {
    scratch.seq.clear();
    scratch.packed.clear();
    scratch.names.clear();
    scratch.cigar.clear();
    scratch.mods.clear();
    scratch.spans.clear();
    match &batch.raw {
        Raw::Bam(frames) => {
            for i in 0..batch.len {
                let record = batch.first + i as u64;
                // Frames were checked by `frame_bam_records`: at least the fixed part.
                let rec = bam::RecordRef::new(frames.record(i)).ok_or_else(|| {
                    ReadError::record(ctx.path, record, "truncated file (unexpected end of data)")
                        .with_category(Category::InputTruncated)
                })?;
                decode_bam(ctx, record, &rec, &frames.data, scratch)?;
            }
        }
        Raw::Sam(recs) => {
            for (i, rec) in recs[..batch.len].iter().enumerate() {
                decode_alignment(ctx, batch.first + i as u64, rec, scratch)?;
            }
        }
        Raw::Cram(container) => decode_cram(ctx, container, batch.first, scratch)?,
        #[cfg(feature = "htslib")]
        Raw::Hts(recs) => {
            for (i, rec) in recs[..batch.len].iter().enumerate() {
                decode_hts(ctx, batch.first + i as u64, rec, scratch)?;
            }
        }
        Raw::Fastq(recs) => {
            for (i, rec) in recs[..batch.len].iter().enumerate() {
                let name = push_name(scratch, Some(rec.name().as_ref()));
                let start = scratch.seq.len();
                encode_ascii_sequence(rec.sequence(), &mut scratch.seq);
                let mut f = flags::UNMAPPED;
                if batch.paired {
                    // Batches always start at the first read of a pair.
                    f |= flags::PAIRED
                        | flags::MATE_UNMAPPED
                        | if i % 2 == 0 {
                            flags::READ1
                        } else {
                            flags::READ2
                        };
                }
                scratch.spans.push(Span {
                    record: batch.first + i as u64,
                    name,
                    flags: f,
                    tid: None,
                    pos: None,
                    mapq: 255,
                    mate_tid: None,
                    mate_pos: None,
                    read_group: None,
                    seq: (start, scratch.seq.len()),
                    packed: (0, 0),
                    len: scratch.seq.len() - start,
                    cigar: (0, 0),
                    mm: (0, 0),
                    ml: (0, 0),
                    in_frame: false,
                });
            }
        }
    }
    Ok(())
}

/// Stores the `len` BAM-packed bases of a read: as codes when a stage needs them, else as they
/// are (see [`ReadStage::needs_codes`]); returns the packed range.
#[inline]
#[cfg(feature = "htslib")]
fn bases(ctx: &DecodeCtx<'_>, packed: &[u8], len: usize, scratch: &mut Scratch) -> (usize, usize) {
    if ctx.codes {
        unpack_bam_sequence(packed, len, &mut scratch.seq);
        (0, 0)
    } else {
        let start = scratch.packed.len();
        scratch
            .packed
            .extend_from_slice(&packed[..len.div_ceil(2).min(packed.len())]);
        (start, scratch.packed.len())
    }
}

fn decode_bam(
    ctx: &DecodeCtx<'_>,
    record: u64,
    rec: &bam::RecordRef<'_>,
    frame: &[u8],
    scratch: &mut Scratch,
) -> Result<(), ReadError> {
    // The name and packed bases are referred to where they are in the batch's bytes.
    let name = range_in(
        frame,
        trim_mate_suffix(rec.name().map_or(&[][..], |n| n.as_ref())),
    );
    let seq = rec.sequence();
    let (start, len) = (scratch.seq.len(), seq.len());
    let packed = if ctx.codes {
        unpack_bam_sequence(seq.as_bytes(), len, &mut scratch.seq);
        (0, 0)
    } else {
        let b = seq.as_bytes();
        range_in(frame, &b[..len.div_ceil(2).min(b.len())])
    };
    let cstart = scratch.cigar.len();
    let raw = rec.cigar();
    for chunk in raw.as_bytes().chunks_exact(4) {
        let v = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        let kind = (v & 0xf) as u8;
        if kind > 8 {
            return Err(ReadError::record(
                ctx.path,
                record,
                format!("invalid CIGAR operation code {kind}"),
            ));
        }
        scratch.cigar.push(CigarOp { kind, len: v >> 4 });
    }
    let read_group = if ctx.rg_index.is_empty() {
        None
    } else {
        read_group_of(
            ctx,
            rec.data()
                .get(&sam::alignment::record::data::field::Tag::READ_GROUP),
        )
    };
    let (mm, ml) = if ctx.mods {
        push_mods(ctx, record, &rec.data(), scratch)?
    } else {
        ((0, 0), (0, 0))
    };
    scratch.spans.push(Span {
        record,
        name,
        flags: rec.flags().bits(),
        tid: checked_tid(
            ctx,
            record,
            rec.reference_sequence_id().transpose().map_err(|e| {
                ReadError::record(
                    ctx.path,
                    record,
                    format!("invalid reference sequence id: {e}"),
                )
            })?,
            "reference sequence id",
        )?,
        pos: rec
            .alignment_start()
            .transpose()
            .map_err(|e| ReadError::record(ctx.path, record, format!("invalid position: {e}")))?
            .map(|p| (usize::from(p) - 1) as u64),
        mapq: rec.mapping_quality().map(u8::from).unwrap_or(255),
        mate_tid: checked_tid(
            ctx,
            record,
            rec.mate_reference_sequence_id().transpose().map_err(|e| {
                ReadError::record(ctx.path, record, format!("invalid mate reference id: {e}"))
            })?,
            "mate reference sequence id",
        )?,
        mate_pos: rec
            .mate_alignment_start()
            .transpose()
            .map_err(|e| {
                ReadError::record(ctx.path, record, format!("invalid mate position: {e}"))
            })?
            .map(|p| (usize::from(p) - 1) as u64),
        read_group,
        seq: (start, scratch.seq.len()),
        packed,
        len,
        cigar: (cstart, scratch.cigar.len()),
        mm,
        ml,
        in_frame: true,
    });
    Ok(())
}

/// A CRAM record decoded by htslib: the same fields as [`decode_bam`] takes from a BAM record.
#[cfg(feature = "htslib")]
fn decode_hts(
    ctx: &DecodeCtx<'_>,
    record: u64,
    rec: &rust_htslib::bam::Record,
    scratch: &mut Scratch,
) -> Result<(), ReadError> {
    let qname = rec.qname();
    let name = push_name(scratch, (qname != b"*").then_some(qname));
    let (start, len) = (scratch.seq.len(), rec.seq_len());
    let packed = bases(ctx, rec.seq().encoded, len, scratch);
    let cstart = scratch.cigar.len();
    for &v in rec.raw_cigar() {
        let kind = (v & 0xf) as u8;
        if kind > 8 {
            return Err(ReadError::record(
                ctx.path,
                record,
                format!("invalid CIGAR operation code {kind}"),
            ));
        }
        scratch.cigar.push(CigarOp { kind, len: v >> 4 });
    }
    let read_group = if ctx.rg_index.is_empty() {
        None
    } else {
        match rec.aux(b"RG") {
            Ok(rust_htslib::bam::record::Aux::String(s)) => ctx.rg_index.get(s.as_bytes()).copied(),
            _ => None,
        }
    };
    let core = &rec.inner().core;
    let tid = |t: i32| -> Result<Option<usize>, ReadError> {
        match t {
            -1 => Ok(None),
            t => usize::try_from(t).map(Some).map_err(|_| {
                ReadError::record(
                    ctx.path,
                    record,
                    format!("invalid reference sequence id {t}"),
                )
            }),
        }
    };
    let pos = |p: i64| u64::try_from(p).ok();
    let (mm, ml) = if ctx.mods {
        hts_mods(rec, scratch)
    } else {
        ((0, 0), (0, 0))
    };
    scratch.spans.push(Span {
        record,
        name,
        flags: core.flag,
        tid: tid(core.tid)?,
        pos: pos(core.pos),
        // CRAM stores no mapping quality for unmapped reads: htslib says 0, noodles "missing".
        mapq: if core.flag & flags::UNMAPPED != 0 {
            255
        } else {
            core.qual
        },
        mate_tid: tid(core.mtid)?,
        mate_pos: pos(core.mpos),
        read_group,
        seq: (start, scratch.seq.len()),
        packed,
        len,
        cigar: (cstart, scratch.cigar.len()),
        mm,
        ml,
        in_frame: false,
    });
    Ok(())
}

/// Reads the next FASTA record (a `>` name line, then sequence lines up to the next `>`) into
/// `rec` (no qualities); `false` at the end of the input. Text before the first `>` is an error.
fn read_fasta_record(
    r: &mut (dyn io::BufRead + Send),
    rec: &mut fastq::Record,
) -> io::Result<bool> {
    let mut line = Vec::new();
    // Skip blank lines to the header.
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            return Ok(false);
        }
        if !line.trim_ascii().is_empty() {
            break;
        }
    }
    let Some(header) = line.trim_ascii_end().strip_prefix(b">") else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "a FASTA record must start with '>'",
        ));
    };
    let name = header
        .split(|b| b.is_ascii_whitespace())
        .next()
        .unwrap_or(&[]);
    rec.name_mut().clear();
    rec.name_mut().extend_from_slice(name);
    rec.description_mut().clear();
    rec.quality_scores_mut().clear();
    let seq = rec.sequence_mut();
    seq.clear();
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() || buf[0] == b'>' {
            break;
        }
        line.clear();
        r.read_until(b'\n', &mut line)?;
        seq.extend_from_slice(line.trim_ascii());
    }
    Ok(true)
}

/// A `(start, end)` range of a scratch buffer.
type Range = (usize, usize);

/// [`push_mods`] for a record decoded by htslib.
#[cfg(feature = "htslib")]
fn hts_mods(rec: &rust_htslib::bam::Record, scratch: &mut Scratch) -> (Range, Range) {
    use rust_htslib::bam::record::Aux;
    let start = scratch.mods.len();
    let mm = rec.aux(b"MM").or_else(|_| rec.aux(b"Mm"));
    if let Ok(Aux::String(s)) = mm {
        scratch.mods.extend_from_slice(s.as_bytes());
    } else {
        return ((start, start), (start, start));
    }
    let mid = scratch.mods.len();
    if let Ok(Aux::ArrayU8(a)) = rec.aux(b"ML").or_else(|_| rec.aux(b"Ml")) {
        scratch.mods.extend(a.iter());
    }
    ((start, mid), (mid, scratch.mods.len()))
}

/// Copies a record's `MM` string and `ML` bytes (or the older `Mm`/`Ml`) into the scratch
/// buffer; empty ranges when the record has none. A tag of the wrong type is an error.
fn push_mods<'r>(
    ctx: &DecodeCtx<'_>,
    record: u64,
    data: &dyn sam::alignment::record::Data<'r>,
    scratch: &mut Scratch,
) -> Result<(Range, Range), ReadError> {
    use sam::alignment::record::data::field::{value::Array, Tag, Value};
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        ReadError::record(ctx.path, record, format!("{what} tag: {e}"))
    };
    let mm_value = data
        .get(&Tag::new(b'M', b'M'))
        .or_else(|| data.get(&Tag::new(b'M', b'm')));
    let start = scratch.mods.len();
    match mm_value {
        None => return Ok(((start, start), (start, start))),
        Some(Err(e)) => return Err(bad("MM", &e)),
        Some(Ok(Value::String(s))) => scratch.mods.extend_from_slice(s.as_ref()),
        Some(Ok(_)) => return Err(bad("MM", &"not a string (MM:Z)")),
    }
    let mm = (start, scratch.mods.len());
    let ml_value = data
        .get(&Tag::new(b'M', b'L'))
        .or_else(|| data.get(&Tag::new(b'M', b'l')));
    match ml_value {
        None => {}
        Some(Err(e)) => return Err(bad("ML", &e)),
        Some(Ok(Value::Array(Array::UInt8(values)))) => {
            for v in values.iter() {
                scratch.mods.push(v.map_err(|e| bad("ML", &e))?);
            }
        }
        Some(Ok(_)) => return Err(bad("ML", &"not an array of unsigned bytes (ML:B:C)")),
    }
    Ok((mm, (mm.1, scratch.mods.len())))
}

/// Explains why htslib stopped at record `record` of a CRAM file, in the words of the noodles
/// decoder: the container holding that record is read again with noodles-cram (the ones before
/// it are skipped undecoded), so a missing or wrong reference gets the same message either way.
/// `truncated`: htslib reached the end of the data without the end-of-file container.
#[cfg(feature = "htslib")]
fn explain_hts_error(
    path: &str,
    reference: Option<&std::path::Path>,
    record: u64,
    truncated: bool,
) -> ReadError {
    let fallback = || {
        if truncated {
            ReadError::file(
                path,
                "truncated file: the CRAM end-of-file container is missing (incomplete copy or download?)",
            )
            .with_category(Category::InputTruncated)
        } else {
            ReadError::record(
                path,
                record,
                "cannot decode this CRAM record (corrupt data?)",
            )
        }
    };
    let mut reader = match super::input::hts::noodles_reader(path) {
        Ok(r) => r,
        Err(e) => return ReadError::io(path, Some(record), &e),
    };
    let header = match reader.read_header() {
        Ok(h) => h,
        Err(e) => {
            return ReadError::file(path, format!("invalid CRAM header: {}", describe_io(&e)))
        }
    };
    let repository = match reference {
        Some(r) => match super::input::open_reference(r) {
            Ok(repo) => repo,
            Err(e) => return e,
        },
        None => fasta::Repository::default(),
    };
    let rg_index = HashMap::new();
    let ctx = DecodeCtx {
        path,
        header: &header,
        repository: &repository,
        rg_index: &rg_index,
        has_reference: reference.is_some(),
        codes: true,
        mods: false,
    };
    let mut container = cram::io::reader::Container::default();
    let mut n = 0u64;
    loop {
        match reader.read_container(&mut container) {
            Ok(0) => return fallback(),
            Ok(_) => {}
            // Only an error where htslib stopped explains it.
            Err(e) if n + 1 >= record => return ReadError::io(path, Some(n + 1), &e),
            Err(_) => return fallback(),
        }
        let count = u64::try_from(container.header().record_count()).unwrap_or(0);
        if n + count >= record {
            return match decode_cram(&ctx, &container, n + 1, &mut Scratch::default()) {
                Err(e) => e,
                Ok(()) => fallback(),
            };
        }
        n += count;
    }
}

/// Copies a read name into the batch's name buffer; FASTQ `/1` and `/2` mate suffixes are
/// dropped so that mates share a name, as they do in SAM.
fn push_name(scratch: &mut Scratch, name: Option<&[u8]>) -> (usize, usize) {
    let start = scratch.names.len();
    if let Some(n) = name {
        scratch.names.extend_from_slice(trim_mate_suffix(n));
    }
    (start, scratch.names.len())
}

/// A read name without a `/1` or `/2` mate suffix.
fn trim_mate_suffix(n: &[u8]) -> &[u8] {
    if n.len() > 2 && n[n.len() - 2] == b'/' && matches!(n[n.len() - 1], b'1' | b'2') {
        &n[..n.len() - 2]
    } else {
        n
    }
}

/// Where `part` (a sub-slice of `whole`) lies in `whole`.
fn range_in(whole: &[u8], part: &[u8]) -> (usize, usize) {
    let start = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
    debug_assert!(part.is_empty() || start + part.len() <= whole.len());
    if part.is_empty() || start > whole.len() {
        return (0, 0);
    }
    (start, start + part.len())
}

fn read_group_of(
    ctx: &DecodeCtx<'_>,
    value: Option<io::Result<sam::alignment::record::data::field::Value<'_>>>,
) -> Option<usize> {
    match value {
        Some(Ok(sam::alignment::record::data::field::Value::String(s))) => {
            let s: &[u8] = s.as_ref();
            // A handful of read groups is the rule: a linear scan beats hashing the tag.
            if ctx.rg_index.len() <= 16 {
                ctx.rg_index
                    .iter()
                    .find(|(id, _)| id.as_slice() == s)
                    .map(|(_, &i)| i)
            } else {
                ctx.rg_index.get(s).copied()
            }
        }
        _ => None,
    }
}

/// SAM and CRAM records, through noodles' alignment-record trait.
fn decode_alignment(
    ctx: &DecodeCtx<'_>,
    record: u64,
    rec: &dyn sam::alignment::Record,
    scratch: &mut Scratch,
) -> Result<(), ReadError> {
    let name = push_name(scratch, rec.name().map(|n| n.as_ref()));
    let start = scratch.seq.len();
    scratch.seq.extend(
        rec.sequence()
            .iter()
            .map(|b| super::view::ASCII_TO_CODE[b as usize]),
    );
    let cstart = scratch.cigar.len();
    for op in rec.cigar().iter() {
        let op =
            op.map_err(|e| ReadError::record(ctx.path, record, format!("invalid CIGAR: {e}")))?;
        use sam::alignment::record::cigar::op::Kind;
        let kind = match op.kind() {
            Kind::Match => 0,
            Kind::Insertion => 1,
            Kind::Deletion => 2,
            Kind::Skip => 3,
            Kind::SoftClip => 4,
            Kind::HardClip => 5,
            Kind::Pad => 6,
            Kind::SequenceMatch => 7,
            Kind::SequenceMismatch => 8,
        };
        scratch.cigar.push(CigarOp {
            kind,
            len: u32::try_from(op.len()).unwrap_or(u32::MAX),
        });
    }
    let read_group = if ctx.rg_index.is_empty() {
        None
    } else {
        read_group_of(
            ctx,
            rec.data()
                .get(&sam::alignment::record::data::field::Tag::READ_GROUP),
        )
    };
    let flags = rec
        .flags()
        .map_err(|e| ReadError::record(ctx.path, record, format!("invalid FLAG: {e}")))?
        .bits();
    let (mm, ml) = if ctx.mods {
        push_mods(ctx, record, &rec.data(), scratch)?
    } else {
        ((0, 0), (0, 0))
    };
    scratch.spans.push(Span {
        record,
        name,
        flags,
        tid: rec
            .reference_sequence_id(ctx.header)
            .transpose()
            .map_err(|e| ReadError::record(ctx.path, record, format!("invalid RNAME: {e}")))?,
        pos: rec
            .alignment_start()
            .transpose()
            .map_err(|e| ReadError::record(ctx.path, record, format!("invalid POS: {e}")))?
            .map(|p| (usize::from(p) - 1) as u64),
        mapq: rec
            .mapping_quality()
            .transpose()
            .map_err(|e| ReadError::record(ctx.path, record, format!("invalid MAPQ: {e}")))?
            .map(u8::from)
            .unwrap_or(255),
        mate_tid: rec
            .mate_reference_sequence_id(ctx.header)
            .transpose()
            .map_err(|e| ReadError::record(ctx.path, record, format!("invalid RNEXT: {e}")))?,
        mate_pos: rec
            .mate_alignment_start()
            .transpose()
            .map_err(|e| ReadError::record(ctx.path, record, format!("invalid PNEXT: {e}")))?
            .map(|p| (usize::from(p) - 1) as u64),
        read_group,
        seq: (start, scratch.seq.len()),
        packed: (0, 0),
        len: scratch.seq.len() - start,
        cigar: (cstart, scratch.cigar.len()),
        mm,
        ml,
        in_frame: false,
    });
    Ok(())
}

fn decode_cram(
    ctx: &DecodeCtx<'_>,
    container: &cram::io::reader::Container,
    first: u64,
    scratch: &mut Scratch,
) -> Result<(), ReadError> {
    let wrap = |e: io::Error| {
        let msg = describe_io(&e);
        let lower = msg.to_lowercase();
        let reference_md5 = lower.contains("reference sequence checksum");
        let message = if reference_md5 && ctx.has_reference {
            "the reference given with --reference does not match the one this CRAM was made with (MD5 of the reference differs)".to_string()
        } else if reference_md5 {
            "the reference sequence used to decode this CRAM does not match the one it was made with (MD5 differs): pass the right one with --reference ref.fa".to_string()
        } else if lower.contains("checksum mismatch") {
            format!("corrupt CRAM container: {msg}")
        } else if lower.contains("reference sequence name") {
            let name = msg.rsplit(": ").next().unwrap_or("").to_string();
            if ctx.has_reference {
                format!("the reference FASTA given with --reference has no sequence named '{name}' (wrong reference?)")
            } else {
                "this CRAM needs its reference sequence to decode: pass --reference ref.fa"
                    .to_string()
            }
        } else {
            format!("cannot decode CRAM container: {msg}")
        };
        let category = if reference_md5 || lower.contains("reference sequence name") {
            Category::ReferenceMismatch
        } else {
            Category::InputFormat
        };
        ReadError::record(ctx.path, first, message).with_category(category)
    };
    let compression_header = container.compression_header().map_err(wrap)?;
    for slice in container.slices() {
        let slice = slice.map_err(wrap)?;
        let (core, external) = slice.decode_blocks().map_err(wrap)?;
        // noodles-cram panics (rather than erring) when a needed reference sequence is absent:
        // catch that here and say what the user can do about it.
        let decoded = quietly_catch(|| {
            slice.records(
                ctx.repository.clone(),
                ctx.header,
                &compression_header,
                &core,
                &external,
            )
        });
        let records = match decoded {
            Ok(r) => r.map_err(wrap)?,
            Err(()) => {
                let message = if ctx.has_reference {
                    "the reference FASTA given with --reference has no sequence for a contig this CRAM needs (wrong reference?)"
                } else {
                    "this CRAM needs its reference sequence to decode: pass --reference ref.fa"
                };
                return Err(ReadError::record(ctx.path, first, message)
                    .with_category(Category::ReferenceMismatch));
            }
        };
        for (i, rec) in records.iter().enumerate() {
            decode_alignment(ctx, first + i as u64, rec, scratch)?;
        }
    }
    Ok(())
}

thread_local! {
    static SILENCE_PANICS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs a panic hook that stays quiet while [`quietly_catch`] runs a decoder that may panic
/// on bad input; every other panic is reported as before. Call once from `main`.
pub fn install_panic_filter() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !SILENCE_PANICS.with(|s| s.get()) {
            previous(info);
        }
    }));
}

/// Runs `f`, turning a panic inside it into `Err(())` without printing it (when the filter is
/// installed).
pub(crate) fn quietly_catch<T>(f: impl FnOnce() -> T) -> Result<T, ()> {
    SILENCE_PANICS.with(|s| s.set(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    SILENCE_PANICS.with(|s| s.set(false));
    r.map_err(|_| ())
}

/// The htslib CRAM decoder against the noodles one (`htslib` feature).
#[cfg(all(test, feature = "htslib"))]
mod htslib_tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::reads::input::{open_with, InputSpec};

    /// Every field of one read.
    #[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct Row {
        record: u64,
        name: String,
        flags: u16,
        tid: Option<usize>,
        pos: Option<u64>,
        mapq: u8,
        mate: (Option<usize>, Option<u64>),
        read_group: Option<usize>,
        seq: Vec<u8>,
        cigar: Vec<(u8, u32)>,
    }

    /// Collects every read.
    struct Rows;

    impl ReadStage for Rows {
        type Acc = Vec<Row>;
        fn finish(
            &self,
            _: Self::Acc,
            _: &InputInfo,
            _: &crate::core::Provenance,
        ) -> Vec<crate::tidy::Row> {
            Vec::new()
        }
        fn accumulator(&self) -> Self::Acc {
            Vec::new()
        }
        fn observe(&self, acc: &mut Self::Acc, reads: &[ReadView<'_>]) {
            acc.extend(reads.iter().map(|r| Row {
                record: r.record,
                name: String::from_utf8_lossy(r.name).into_owned(),
                flags: r.flags,
                tid: r.tid,
                pos: r.pos,
                mapq: r.mapq,
                mate: (r.mate_tid, r.mate_pos),
                read_group: r.read_group,
                seq: r.seq.to_vec(),
                cigar: r.cigar.iter().map(|op| (op.kind, op.len)).collect(),
            }));
        }
        fn merge(&self, into: &mut Self::Acc, from: Self::Acc) {
            into.extend(from);
        }
    }

    fn seq(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/seq")
            .join(name)
    }

    fn rows(spec: &InputSpec, htslib: bool) -> Result<Vec<Row>, ReadError> {
        let source = open_with(spec, 2, htslib)?;
        let (mut accs, stats) = run_pass(source, &[&Rows], 2)?;
        let mut v = take_acc(&Rows, accs.remove(0));
        v.sort_unstable();
        assert_eq!(v.len() as u64, stats.records);
        Ok(v)
    }

    fn spec(cram: &Path, reference: Option<PathBuf>) -> InputSpec {
        InputSpec {
            path: cram.display().to_string(),
            reference,
            ..InputSpec::default()
        }
    }

    fn assert_same_reads(spec: &InputSpec) {
        let noodles = rows(spec, false).unwrap();
        let hts = rows(spec, true).unwrap();
        assert_eq!(hts.len(), noodles.len(), "{}: record count", spec.path);
        let differ = hts.iter().zip(&noodles).filter(|(a, b)| a != b).count();
        if let Some((a, b)) = hts.iter().zip(&noodles).find(|(a, b)| a != b) {
            panic!(
                "{}: {differ} of {} reads differ; the first:\nhtslib:  {a:?}\nnoodles: {b:?}",
                spec.path,
                hts.len()
            );
        }
    }

    #[test]
    fn htslib_and_noodles_decode_the_same_reads() {
        assert_same_reads(&spec(&seq("htsnexus_test_NA12878.cram"), None));
        assert_same_reads(&spec(&seq("HG03478_MT.cram"), Some(seq("ref/MT.fa"))));
        // Any other CRAM, e.g. a benchmark file: AGEMARK_COMPARE_CRAM=x.cram [AGEMARK_COMPARE_REF=ref.fa].
        if let Ok(cram) = std::env::var("AGEMARK_COMPARE_CRAM") {
            let reference = std::env::var("AGEMARK_COMPARE_REF").ok().map(PathBuf::from);
            assert_same_reads(&spec(Path::new(&cram), reference));
        }
    }

    #[test]
    fn htslib_reads_a_reference_without_fai() {
        // htslib needs a .fai: one is built in memory and handed over in a temporary file.
        let dir = tempfile::tempdir().unwrap();
        let fa = dir.path().join("MT.fa");
        std::fs::copy(seq("ref/MT.fa"), &fa).unwrap();
        let s = spec(&seq("HG03478_MT.cram"), Some(fa));
        let with_fai = spec(&seq("HG03478_MT.cram"), Some(seq("ref/MT.fa")));
        assert!(rows(&s, true).unwrap() == rows(&with_fai, true).unwrap());
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["MT.fa"], "nothing written beside the reference");
    }

    #[test]
    fn htslib_errors_read_like_the_noodles_ones() {
        let cram = seq("HG03478_MT.cram");
        let wrong = seq("ref/human_g1k_v37_chr1_1-60000.fa");
        for reference in [None, Some(wrong)] {
            let s = spec(&cram, reference);
            let a = rows(&s, true).unwrap_err().to_string();
            let b = rows(&s, false).unwrap_err().to_string();
            assert_eq!(a, b);
        }
        // Cut copies: in a container, and where a container ends.
        let data = std::fs::read(&cram).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for cut in [data.len() / 2, data.len() - 38] {
            let f = dir.path().join(format!("cut{cut}.cram"));
            std::fs::write(&f, &data[..cut]).unwrap();
            let s = spec(&f, Some(seq("ref/MT.fa")));
            let a = rows(&s, true).unwrap_err().to_string();
            let b = rows(&s, false).unwrap_err().to_string();
            assert_eq!(a, b);
            assert!(a.contains("truncated"), "{a}");
        }
    }
}

/// BAM records framed in place across inflated chunks (see [`frame_bam_records`]).
#[cfg(test)]
mod bam_framing_tests {
    use sam::alignment::io::Write as _;

    use super::*;
    use crate::reads::input::{open, InputSpec};

    /// Each read's record number, name, length and bases (codes, or packed).
    struct Reads {
        codes: bool,
    }

    impl ReadStage for Reads {
        type Acc = Vec<(u64, Vec<u8>, usize, Vec<u8>)>;
        fn finish(
            &self,
            _: Self::Acc,
            _: &InputInfo,
            _: &crate::core::Provenance,
        ) -> Vec<crate::tidy::Row> {
            Vec::new()
        }
        fn accumulator(&self) -> Self::Acc {
            Vec::new()
        }
        fn observe(&self, acc: &mut Self::Acc, reads: &[ReadView<'_>]) {
            acc.extend(reads.iter().map(|r| {
                let bases = if self.codes { r.seq } else { r.packed };
                (r.record, r.name.to_vec(), r.len, bases.to_vec())
            }));
        }
        fn needs_codes(&self) -> bool {
            self.codes
        }
        fn merge(&self, into: &mut Self::Acc, from: Self::Acc) {
            into.extend(from);
        }
    }

    /// Short reads around records far longer than a chunk's headroom and than a whole chunk,
    /// and empty sequences: the pass sees exactly the records noodles reads, at every thread
    /// count (chunks are cut by BGZF blocks, records by nothing).
    #[test]
    fn records_cut_by_chunk_boundaries_are_read_whole() {
        let mut sam_text = String::from("@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:100000000\n");
        let mut rng = crate::core::rng::SplitMix64(7);
        for i in 0..24_000u64 {
            let len = match i {
                5_000 => 100_000,    // longer than the headroom, shorter than a chunk
                12_000 => 1_300_000, // longer than a chunk
                7 | 19_999 => 0,
                _ => 50 + rng.below(200) as usize,
            };
            let seq: String = (0..len)
                .map(|_| b"ACGTN"[rng.below(5) as usize] as char)
                .collect();
            let (seq, qual) = if len == 0 {
                ("*".to_string(), "*".to_string())
            } else {
                (seq, "I".repeat(len))
            };
            sam_text.push_str(&format!("r{i}/1\t4\t*\t0\t0\t*\t*\t0\t0\t{seq}\t{qual}\n"));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.bam");
        {
            let mut reader = sam::io::Reader::new(sam_text.as_bytes());
            let header = reader.read_header().unwrap();
            let mut writer = bam::io::Writer::new(std::fs::File::create(&path).unwrap());
            writer.write_header(&header).unwrap();
            for r in reader.records() {
                writer.write_alignment_record(&header, &r.unwrap()).unwrap();
            }
            writer.try_finish().unwrap();
        }
        let mut want = Vec::new();
        {
            let mut reader = bam::io::reader::Builder.build_from_path(&path).unwrap();
            reader.read_header().unwrap();
            for (i, r) in reader.records().enumerate() {
                let r = r.unwrap();
                let name = r.name().map(|n| n.to_vec()).unwrap_or_default();
                let seq = r.sequence();
                let packed = seq.as_ref()[..seq.len().div_ceil(2)].to_vec();
                want.push((i as u64 + 1, name, seq.len(), packed));
            }
        }
        assert!(want.len() == 24_000);
        for (threads, codes) in [(1, false), (3, false), (2, true)] {
            let spec = InputSpec {
                path: path.display().to_string(),
                ..InputSpec::default()
            };
            let stage = Reads { codes };
            let (mut accs, stats) =
                run_pass(open(&spec, threads).unwrap(), &[&stage], threads).unwrap();
            let mut got = take_acc(&stage, accs.remove(0));
            got.sort();
            assert_eq!(stats.records, 24_000);
            assert_eq!(got.len(), 24_000);
            for (g, w) in got.iter().zip(&want) {
                // The pass drops the /1 mate suffix.
                let mut name = w.1.clone();
                name.truncate(name.len() - 2);
                assert_eq!((g.0, &g.1, g.2), (w.0, &name, w.2), "{threads} threads");
                let bases = if codes {
                    let mut v = Vec::new();
                    unpack_bam_sequence(&w.3, w.2, &mut v);
                    v
                } else {
                    w.3.clone()
                };
                assert!(g.3 == bases, "record {}: bases, {threads} threads", w.0);
            }
        }
    }
}
