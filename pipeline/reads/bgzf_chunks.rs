//! Parallel BGZF inflation with a deep read-ahead, for BAM input to the read pass.
//!
//! noodles-bgzf's `MultithreadedReader` keeps `workers + 1` blocks (64 KiB each) in flight and
//! hands every block across three threads (reader → pool → consumer). On a busy machine any
//! wait for the scheduler then stalls the whole pass: measured on a 1.94 GB BAM on a shared
//! 2-core machine, agemark used 16 CPU s but took 31-37 s wall while `samtools view -c -@2`
//! took 14-17 s. This reader moves whole chunks of [`CHUNK_BLOCKS`] blocks instead: a reader
//! thread cuts the compressed stream into chunks at block boundaries (reading only each block's
//! size from its header), each chunk becomes an inflate job on an [`InflateQueue`] that inflates
//! it straight into a reused buffer ([`inflate_chunk`]: libdeflate, with the block checks
//! noodles-bgzf makes), and the consumer reads the inflated chunks in order.
//!
//! Nothing here owns a thread pool: the jobs are run by whoever waits for them. The consumer
//! runs queued jobs while it waits for the chunk it needs (so reading a header needs no other
//! thread), and the read pass's workers run them between batches
//! ([`InflateQueue::run_pending`] and [`InflateQueue::receiver`]), so inflation shares the
//! `--threads` workers with decoding instead of adding a pool of its own.
//!
//! Memory: at most `2 × workers + 2` chunks are in flight (queued, being inflated, being read),
//! each up to [`HEADROOM`] + [`CHUNK_BLOCKS`] × 64 KiB inflated (≈ 1.06 MiB) plus its compressed
//! bytes; a consumer that takes chunks whole ([`ChunkedBgzfReader::take_chunk`]) holds more
//! until it gives them back, and spare buffers wait for reuse (never more buffers than were
//! ever in use at once).

use std::{
    io::{self, BufRead, Read},
    thread,
};

use crossbeam_channel::{bounded, Receiver, Sender};

/// BGZF blocks per chunk (a block inflates to at most 64 KiB).
pub const CHUNK_BLOCKS: usize = 16;
/// Free bytes before the data of each inflated chunk, so that a consumer taking whole chunks
/// ([`ChunkedBgzfReader::take_chunk`]) can put the start of a record cut by the chunk boundary
/// in front of its rest without moving the chunk.
pub const HEADROOM: usize = 64 << 10;
/// Bytes of the compressed stream read per system call.
const READ_BUFFER: usize = 1 << 20;
/// Spare inflate buffers kept for reuse (consumers taking whole chunks hold several at once).
const SPARE_BUFFERS: usize = 32;

/// An inflated chunk: the buffer and the end of its data, which starts at [`HEADROOM`]. The
/// buffer keeps its length across reuse (bytes outside the data are stale, never read), so it
/// is zeroed only once.
/// An inflated chunk: the buffer, the end of its data, and the error that stopped it part way
/// (the blocks before a bad block are delivered, then the error, so that the error is
/// attributed to the first record not read whole).
type Chunk = io::Result<(Vec<u8>, usize, Option<io::Error>)>;

/// One inflate job: inflates a chunk and sends the result to whoever reads it.
pub type InflateJob = Box<dyn FnOnce() + Send>;

/// A queue of inflate jobs, shared by the readers of one input and the threads that run them.
/// Cloning gives another handle on the same queue.
#[derive(Clone)]
pub struct InflateQueue {
    tx: Sender<InflateJob>,
    rx: Receiver<InflateJob>,
}

impl Default for InflateQueue {
    fn default() -> Self {
        InflateQueue::new()
    }
}

impl InflateQueue {
    /// An empty queue.
    pub fn new() -> Self {
        // Unbounded: the jobs in flight are bounded by the readers' chunk channels.
        let (tx, rx) = crossbeam_channel::unbounded();
        InflateQueue { tx, rx }
    }

    /// The receiving end, for a worker that waits on jobs and other work at once
    /// (`crossbeam_channel::select!`); run what it yields.
    pub fn receiver(&self) -> &Receiver<InflateJob> {
        &self.rx
    }

    /// Runs the queued jobs, if any; returns how many ran.
    pub fn run_pending(&self) -> usize {
        let mut n = 0;
        while let Ok(job) = self.rx.try_recv() {
            job();
            n += 1;
        }
        n
    }
}

/// An in-order reader of the inflated bytes of a BGZF stream, inflated in parallel.
pub struct ChunkedBgzfReader {
    /// The queue this reader's inflate jobs go to (run by the consumer while it waits).
    queue: InflateQueue,
    chunks: Receiver<Receiver<Chunk>>,
    /// Inflated chunks read to the end, back to the pool for reuse.
    spent: Sender<Vec<u8>>,
    current: Vec<u8>,
    /// Bytes of `current` that are data.
    filled: usize,
    pos: usize,
    done: bool,
    /// The error after the last chunk delivered (a bad block inside a chunk).
    deferred: Option<io::Error>,
}

impl ChunkedBgzfReader {
    /// Starts reading `inner` (a BGZF stream) on a thread of its own, with `workers` inflating
    /// at once at most, on a queue of its own (inflated by the consumer alone unless others
    /// run the queue: see [`Self::with_queue`]).
    pub fn new<R: Read + Send + 'static>(inner: R, workers: usize) -> io::Result<Self> {
        Self::with_queue(inner, workers, InflateQueue::new())
    }

    /// Starts reading `inner` (a BGZF stream) on a thread of its own; its chunks are inflated by
    /// jobs on `queue`, run by the consumer while it waits and by anyone else running the queue
    /// (the read pass's workers), `workers` chunks in flight ahead of the consumer at most.
    pub fn with_queue<R: Read + Send + 'static>(
        inner: R,
        workers: usize,
        queue: InflateQueue,
    ) -> io::Result<Self> {
        let workers = workers.max(1);
        // Blocks are cut from the stream a few fields at a time: through a 1 MiB buffer that is
        // one read system call per ~50 blocks instead of three per block.
        let mut inner = io::BufReader::with_capacity(READ_BUFFER, inner);
        let jobs = queue.tx.clone();
        let (tx, chunks) = bounded::<Receiver<Chunk>>(2 * workers);
        // Buffers are reused rather than allocated per chunk (fresh megabyte-sized buffers cost
        // page faults and zeroing).
        let (spent, reuse_out) = bounded::<Vec<u8>>(SPARE_BUFFERS);
        let (spent_in, reuse_in) = bounded::<Vec<u8>>(2 * workers + 2);
        thread::Builder::new()
            .name("agemark-bgzf-reader".into())
            .spawn(move || {
                // Byte offset in the BGZF file of the chunk being cut.
                let mut offset = 0u64;
                loop {
                    let mut compressed = reuse_in
                        .try_recv()
                        .unwrap_or_else(|_| Vec::with_capacity(CHUNK_BLOCKS << 16));
                    compressed.clear();
                    let mut blocks = 0;
                    let mut failed = None;
                    while blocks < CHUNK_BLOCKS {
                        match read_block(&mut inner, &mut compressed) {
                            Ok(true) => blocks += 1,
                            Ok(false) => break,
                            Err(e) => {
                                failed = Some(e);
                                break;
                            }
                        }
                    }
                    let chunk_offset = offset;
                    offset += compressed.len() as u64;
                    if blocks > 0 {
                        let (done_tx, done_rx) = bounded(1);
                        let (reuse_out, spent_in) = (reuse_out.clone(), spent_in.clone());
                        let job: InflateJob = Box::new(move || {
                            let out = reuse_out.try_recv().unwrap_or_default();
                            let r = inflate_chunk(&compressed, out, chunk_offset);
                            let _ = spent_in.try_send(compressed);
                            let _ = done_tx.send(r);
                        });
                        if jobs.send(job).is_err() || tx.send(done_rx).is_err() {
                            return;
                        }
                    }
                    if let Some(e) = failed {
                        let (err_tx, err_rx) = bounded(1);
                        let _ = err_tx.send(Err(e));
                        let _ = tx.send(err_rx);
                        return;
                    }
                    if blocks < CHUNK_BLOCKS {
                        return;
                    }
                }
            })?;
        Ok(ChunkedBgzfReader {
            queue,
            chunks,
            spent,
            current: Vec::new(),
            filled: 0,
            pos: 0,
            done: false,
            deferred: None,
        })
    }
}

/// Appends the next whole BGZF block (header, compressed data, trailer) of `r` to `buf`;
/// `false` at the end of the stream. Only the size is read here (the `BC` subfield of the gzip
/// header's extra field, RFC 1952 and SAM specification §4.1); noodles-bgzf checks the rest
/// when it inflates the chunk. On error `buf` is left as it was, so the blocks before a cut
/// are still inflated and the error comes after them.
fn read_block<R: Read>(r: &mut R, buf: &mut Vec<u8>) -> io::Result<bool> {
    let start = buf.len();
    let r = append_block(r, buf);
    if r.is_err() {
        buf.truncate(start);
    }
    r
}

fn append_block<R: Read>(r: &mut R, buf: &mut Vec<u8>) -> io::Result<bool> {
    let invalid = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_string());
    let mut head = [0u8; 12];
    let mut got = 0;
    while got < head.len() {
        match r.read(&mut head[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if head[..4] != [0x1f, 0x8b, 0x08, 0x04] {
        return Err(invalid("invalid BGZF block header"));
    }
    let xlen = usize::from(u16::from_le_bytes([head[10], head[11]]));
    let start = buf.len();
    buf.extend_from_slice(&head);
    append_exact(r, buf, xlen)?;
    let extra = &buf[start + head.len()..];
    let total = block_size_of(extra)
        .ok_or_else(|| invalid("BGZF block without its block size (BC) field"))?;
    let have = head.len() + xlen;
    if total < have + 8 {
        return Err(invalid("invalid BGZF block size"));
    }
    append_exact(r, buf, total - have)?;
    Ok(true)
}

/// Inflates the whole BGZF blocks in `compressed` into `out`, straight into the buffer (no
/// intermediate block buffer, and `out` is zeroed only when it grows), checking each block as
/// noodles-bgzf does: header magic, the `BC` block size, ISIZE at most 64 KiB, the inflated
/// size equal to ISIZE and its CRC32. The data starts at [`HEADROOM`]; returns the buffer and
/// the end of the data.
///
/// This is libdeflate through the `libdeflater` crate that noodles-bgzf itself uses; noodles'
/// reader, fed a chunk, went through `Read::read_to_end`, which zeroes the spare capacity of
/// every chunk and copied each block once more: 5–8 % of the CPU of a telomere pass (perf).
///
/// A bad block ends the chunk: the blocks before it are returned with the error, which names
/// the block's byte offset in the file (`offset` is the chunk's).
fn inflate_chunk(compressed: &[u8], mut out: Vec<u8>, offset: u64) -> Chunk {
    let mut decompressor = libdeflater::Decompressor::new();
    let mut rest = compressed;
    let mut filled = HEADROOM;
    while !rest.is_empty() {
        let at = offset + (compressed.len() - rest.len()) as u64;
        let invalid = |m: &str| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("BGZF block at byte {at}: {m}"),
            )
        };
        let (header_len, total) = match block_extent(rest) {
            Ok(x) => x,
            Err(e) => return Ok((out, filled, Some(invalid(&e.to_string())))),
        };
        let block = &rest[..total];
        let trailer = &block[total - 8..];
        let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
        let isize = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]) as usize;
        if isize > 1 << 16 {
            return Ok((out, filled, Some(invalid("invalid BGZF ISIZE"))));
        }
        if out.len() < filled + isize {
            out.resize((filled + isize).max(HEADROOM + (CHUNK_BLOCKS << 16)), 0);
        }
        let dst = &mut out[filled..filled + isize];
        let n = match decompressor.deflate_decompress(&block[header_len..total - 8], dst) {
            Ok(n) => n,
            Err(_) => {
                return Ok((
                    out,
                    filled,
                    Some(invalid("corrupt compressed data (deflate stream invalid)")),
                ))
            }
        };
        if n != isize {
            return Ok((
                out,
                filled,
                Some(invalid("inflated size differs from the block's ISIZE")),
            ));
        }
        if libdeflater::crc32(dst) != crc {
            return Ok((
                out,
                filled,
                Some(invalid("block data checksum (CRC32) mismatch")),
            ));
        }
        filled += isize;
        rest = &rest[total..];
    }
    Ok((out, filled, None))
}

/// The total size of a BGZF block from the extra field of its gzip header: its `BC` subfield
/// holds the size minus one (RFC 1952 and SAM specification §4.1).
fn block_size_of(mut extra: &[u8]) -> Option<usize> {
    let mut bsize = None;
    while extra.len() >= 4 {
        let slen = usize::from(u16::from_le_bytes([extra[2], extra[3]]));
        if extra[..2] == *b"BC" && slen == 2 && extra.len() >= 6 {
            bsize = Some(usize::from(u16::from_le_bytes([extra[4], extra[5]])) + 1);
        }
        extra = &extra[(4 + slen).min(extra.len())..];
    }
    bsize
}

/// The header length and total size of the BGZF block at the start of `b` (checked: magic,
/// `BC` field, size within `b`).
fn block_extent(b: &[u8]) -> io::Result<(usize, usize)> {
    let invalid = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_string());
    if b.len() < 12 || b[..4] != [0x1f, 0x8b, 0x08, 0x04] {
        return Err(invalid("invalid BGZF block header"));
    }
    let xlen = usize::from(u16::from_le_bytes([b[10], b[11]]));
    let header_len = 12 + xlen;
    let extra = b
        .get(12..header_len)
        .ok_or_else(|| invalid("invalid BGZF block header"))?;
    let total = block_size_of(extra)
        .ok_or_else(|| invalid("BGZF block without its block size (BC) field"))?;
    if total < header_len + 8 || total > b.len() {
        return Err(invalid("invalid BGZF block size"));
    }
    Ok((header_len, total))
}

/// Appends exactly `n` bytes of `r` to `buf` (reading into its spare capacity, no zeroing).
fn append_exact<R: Read>(r: &mut R, buf: &mut Vec<u8>, n: usize) -> io::Result<()> {
    let want = buf.len() + n;
    r.by_ref().take(n as u64).read_to_end(buf)?;
    if buf.len() == want {
        Ok(())
    } else {
        Err(io::ErrorKind::UnexpectedEof.into())
    }
}

impl ChunkedBgzfReader {
    /// The next inflated chunk in order; `None` at the end.
    fn next(&mut self) -> io::Result<Option<(Vec<u8>, usize)>> {
        if self.done {
            return Ok(None);
        }
        if let Some(e) = self.deferred.take() {
            self.done = true;
            return Err(e);
        }
        match self.chunks.recv() {
            Err(_) => Ok(None),
            Ok(pending) => match self.wait_for(&pending) {
                Ok(Ok((chunk, filled, None))) => Ok(Some((chunk, filled))),
                Ok(Ok((chunk, filled, Some(e)))) => {
                    if filled > HEADROOM {
                        self.deferred = Some(e);
                        Ok(Some((chunk, filled)))
                    } else {
                        self.done = true;
                        Err(e)
                    }
                }
                Ok(Err(e)) => {
                    self.done = true;
                    Err(e)
                }
                Err(_) => {
                    self.done = true;
                    Err(io::Error::other("BGZF inflate worker stopped"))
                }
            },
        }
    }

    /// Waits for a chunk's result, running queued inflate jobs meanwhile (its own among them,
    /// unless another thread took it).
    fn wait_for(&self, pending: &Receiver<Chunk>) -> Result<Chunk, crossbeam_channel::RecvError> {
        loop {
            if let Ok(r) = pending.try_recv() {
                return Ok(r);
            }
            crossbeam_channel::select! {
                recv(pending) -> r => return r,
                recv(self.queue.rx) -> job => match job {
                    Ok(job) => job(),
                    // Never: the queue keeps a sender.
                    Err(_) => return pending.recv(),
                },
            }
        }
    }

    /// Takes the unread rest of the inflated stream's current chunk, or the next chunk, whole:
    /// `(buffer, start, end)` with the data in `buffer[start..end]` and at least [`HEADROOM`]
    /// bytes free before `start` when the chunk is a fresh one. `None` at the end. Reading
    /// through [`BufRead`] and taking chunks may be mixed (a BAM header is read, then records
    /// are taken whole); give buffers back with [`Self::recycle`].
    pub fn take_chunk(&mut self) -> io::Result<Option<(Vec<u8>, usize, usize)>> {
        if self.pos < self.filled {
            let (pos, filled) = (self.pos, self.filled);
            self.pos = 0;
            self.filled = 0;
            return Ok(Some((std::mem::take(&mut self.current), pos, filled)));
        }
        Ok(self
            .next()?
            .map(|(chunk, filled)| (chunk, HEADROOM, filled)))
    }

    /// Gives a buffer back for reuse.
    pub fn recycle(&self, buffer: Vec<u8>) {
        if buffer.capacity() > 0 {
            let _ = self.spent.try_send(buffer);
        }
    }
}

impl BufRead for ChunkedBgzfReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.filled && !self.done {
            match self.next()? {
                Some((chunk, filled)) => {
                    let spent = std::mem::replace(&mut self.current, chunk);
                    self.recycle(spent);
                    self.filled = filled;
                    self.pos = HEADROOM;
                }
                None => self.done = true,
            }
        }
        Ok(&self.current[self.pos..self.filled])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.filled);
    }
}

impl Read for ChunkedBgzfReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let src = self.fill_buf()?;
        let n = src.len().min(buf.len());
        buf[..n].copy_from_slice(&src[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use noodles_bgzf as bgzf;

    use super::*;

    /// Inflates what noodles' writer deflated, across many blocks and chunks, and fails on a
    /// cut stream.
    #[test]
    fn reads_back_what_noodles_wrote_and_fails_on_a_cut() {
        let mut data = Vec::new();
        let mut x: u32 = 1;
        for _ in 0..3_000_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            data.push(b"ACGT"[(x >> 16) as usize % 4]);
        }
        let mut w = bgzf::io::Writer::new(Vec::new());
        w.write_all(&data).unwrap();
        let bytes = w.finish().unwrap();
        for workers in [1, 3] {
            let mut out = Vec::new();
            ChunkedBgzfReader::new(io::Cursor::new(bytes.clone()), workers)
                .unwrap()
                .read_to_end(&mut out)
                .unwrap();
            assert!(out == data, "{workers} workers");
        }
        let cut = bytes[..bytes.len() / 2].to_vec();
        let mut out = Vec::new();
        let e = ChunkedBgzfReader::new(io::Cursor::new(cut), 2)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        let e = ChunkedBgzfReader::new(io::Cursor::new(b"not bgzf at all".to_vec()), 2)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        // A wrong CRC32 or ISIZE in the first block's trailer is caught, as noodles catches it.
        let (_, first) = block_extent(&bytes).unwrap();
        for (at, why) in [(first - 8, "checksum"), (first - 4, "ISIZE")] {
            let mut bad = bytes.clone();
            bad[at] ^= 0x01;
            let e = ChunkedBgzfReader::new(io::Cursor::new(bad), 2)
                .unwrap()
                .read_to_end(&mut out)
                .unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{why}");
        }
    }
}
