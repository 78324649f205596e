//! CSV import jobs: the file arrives in fixed-size chunks, is analysed
//! (encoding, delimiter, headers, suggested or remembered mapping), then runs
//! in batches. Each batch reads rows from the job's committed byte position,
//! writes its records and per-row problems, and advances the position in one
//! transaction: a crash loses nothing and resumes exactly there, so every row
//! is imported once. Matching by email or external id makes a re-run of the
//! same file change nothing. A big contact import loads without the indexes
//! that cost most per row and builds them at the end (`bulk`).

use super::{bulk, companies, contacts, fields, insert_multi, marks, Invalid, LimitReached, NotFound, Writer};
use crate::csv::{self, Detected, Encoding, Next};
use crate::fields::{Entity, FieldDef};
use crate::import::{self, MatchBy, Mapping};
use crate::model::{merge_patch, Company, Contact, ContactData};
use anyhow::Result;
use edge_db::{Db, Row, Val};
use edge_http::{FieldError, Visibility};
use serde::Serialize;
use std::collections::HashMap;

/// Upload chunk size (every chunk but the last has exactly this many bytes).
pub const CHUNK: i64 = 512 * 1024;
/// Largest file accepted.
pub const MAX_FILE: i64 = 2 << 30;
/// Rows per transaction. Unless a bulk load dropped them, each row adds an
/// entry to a dozen indexes, most at a random place, so a row dirties a page in
/// each: rows that share a page write it once, and the bigger the batch the more
/// share (100,000 rows into a million contacts: 7,750 rows/s in 2,000-row
/// batches, 9,490 in 10,000-row ones). The cost is how long other writers of
/// the tenant wait: about a second at that size.
pub const BATCH: usize = 10_000;
/// Bytes of row text per transaction (rows may be up to 64 KiB each).
const BATCH_BYTES: usize = 8 << 20;
/// Problems kept per job (counts go on).
const MAX_ERRORS: i64 = 10_000;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: String,
    pub entity: Entity,
    pub filename: String,
    /// uploading → mapping → ready → running → done (or failed / cancelled);
    /// a bulk load goes running → indexing → done (the rows are in, the
    /// indexes it dropped are being built).
    pub status: String,
    pub total_bytes: i64,
    pub detected: Option<Detected>,
    pub headers: Vec<String>,
    pub mapping: Option<Mapping>,
    /// Bytes of the file imported so far (committed).
    pub position: i64,
    pub rows_done: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub failed: i64,
    pub message: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub finished_at: Option<String>,
    /// Indexes this job dropped for a bulk load and has still to build.
    pub indexes_left: i64,
}

impl Job {
    pub fn progress(&self) -> f64 {
        if self.total_bytes == 0 {
            1.0
        } else {
            self.position as f64 / self.total_bytes as f64
        }
    }
}

const COLS: &str = "id, entity, filename, status, total_bytes, encoding, delimiter, bom, headers, mapping, position, rows_done, created, updated, unchanged, failed, message, created_by, created_at, updated_at, finished_at, indexes_left";

fn from_row(r: Row) -> Job {
    let encoding: Option<Encoding> = r.str(5).and_then(|s| serde_json::from_value(serde_json::Value::String(s.into())).ok());
    Job {
        id: r.text(0),
        entity: r.str(1).and_then(Entity::parse).unwrap_or(Entity::Contact),
        filename: r.text(2),
        status: r.text(3),
        total_bytes: r.i64(4).unwrap_or(0),
        detected: encoding.map(|encoding| Detected { encoding, delimiter: r.str(6).and_then(|d| d.chars().next()).unwrap_or(','), bom: r.i64(7).unwrap_or(0) as usize }),
        headers: r.json(8),
        mapping: r.str(9).and_then(|s| serde_json::from_str(s).ok()),
        position: r.i64(10).unwrap_or(0),
        rows_done: r.i64(11).unwrap_or(0),
        created: r.i64(12).unwrap_or(0),
        updated: r.i64(13).unwrap_or(0),
        unchanged: r.i64(14).unwrap_or(0),
        failed: r.i64(15).unwrap_or(0),
        message: r.string(16),
        created_by: r.text(17),
        created_at: r.text(18),
        updated_at: r.text(19),
        finished_at: r.string(20),
        indexes_left: r.i64(21).unwrap_or(0),
    }
}

/// A problem with the job's state for the request (e.g. uploading after the upload finished).
#[derive(Debug)]
pub struct WrongState(pub String);
impl std::fmt::Display for WrongState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for WrongState {}

/// The job moved on (another caller ran a batch, or cancelled it) while a
/// batch was being written: that batch is rolled back.
#[derive(Debug)]
struct Moved;
impl std::fmt::Display for Moved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the import moved on meanwhile")
    }
}
impl std::error::Error for Moved {}

fn wrong(msg: &str) -> anyhow::Error {
    WrongState(msg.into()).into()
}

pub fn get<D: Db + ?Sized>(db: &D, id: &str) -> Result<Option<Job>> {
    Ok(db.run(&format!("SELECT {COLS} FROM imports WHERE id = ?"), &[id.into()])?.first().map(from_row))
}

/// Recent jobs, newest first.
pub fn list<D: Db + ?Sized>(db: &D, limit: i64) -> Result<Vec<Job>> {
    Ok(db.run(&format!("SELECT {COLS} FROM imports ORDER BY id DESC LIMIT ?"), &[Val::Int(limit)])?.iter().map(from_row).collect())
}

pub fn create<D: Db + ?Sized>(db: &D, w: &Writer, entity: Entity, filename: &str, total_bytes: i64) -> Result<Job> {
    let mut errors = Vec::new();
    if !(1..=MAX_FILE).contains(&total_bytes) {
        errors.push(FieldError::new("size", &format!("must be from 1 byte to {} GiB", MAX_FILE >> 30)));
    }
    let filename = filename.trim();
    if filename.is_empty() || filename.chars().count() > 255 {
        errors.push(FieldError::new("filename", "is required (at most 255 characters)"));
    }
    if !errors.is_empty() {
        return Err(Invalid(errors).into());
    }
    edge_db::tx(db, || {
        let id = w.new_id(db, "imports", "im")?;
        let now = edge_db::now();
        db.run(
            "INSERT INTO imports (id, entity, filename, status, total_bytes, created_by, created_at, updated_at) VALUES (?, ?, ?, 'uploading', ?, ?, ?, ?)",
            &[id.as_str().into(), entity.as_str().into(), filename.into(), Val::Int(total_bytes), w.actor.into(), now.as_str().into(), now.as_str().into()],
        )?;
        get(db, &id)?.ok_or_else(|| NotFound.into())
    })
}

pub fn chunks_expected(total: i64) -> i64 {
    (total + CHUNK - 1) / CHUNK
}

/// Stores chunk `n` (idempotent: a retried upload replaces it).
pub fn put_chunk<D: Db + ?Sized>(db: &D, job: &Job, n: i64, data: &[u8]) -> Result<()> {
    if job.status != "uploading" {
        return Err(wrong("the file is already complete"));
    }
    let expected = chunks_expected(job.total_bytes);
    if !(0..expected).contains(&n) {
        return Err(Invalid(vec![FieldError::new("chunk", &format!("must be from 0 to {}", expected - 1))]).into());
    }
    let want = if n == expected - 1 { job.total_bytes - n * CHUNK } else { CHUNK };
    if data.len() as i64 != want {
        return Err(Invalid(vec![FieldError::new("chunk", &format!("chunk {n} must be {want} bytes, got {}", data.len()))]).into());
    }
    db.run("INSERT OR REPLACE INTO import_chunks (import_id, n, data) VALUES (?, ?, ?)", &[job.id.as_str().into(), Val::Int(n), Val::Blob(data.to_vec())])?;
    Ok(())
}

fn chunk<D: Db + ?Sized>(db: &D, id: &str, n: i64) -> Result<Option<Vec<u8>>> {
    let r = db.run("SELECT data FROM import_chunks WHERE import_id = ? AND n = ?", &[id.into(), Val::Int(n)])?;
    Ok(r.rows.into_iter().next().and_then(|row| row.into_iter().next()).and_then(|v| match v {
        Val::Blob(b) => Some(b),
        Val::Text(s) => Some(s.into_bytes()),
        _ => None,
    }))
}

/// File bytes loaded ahead of a batch read while the last batch is written
/// (a batch holds at most this much row text).
const PREFETCH: usize = BATCH_BYTES;

/// Reads records from a byte position, a chunk at a time.
struct Reader<'a, D: Db + ?Sized> {
    db: &'a D,
    job_id: String,
    total: i64,
    delim: u8,
    buf: Vec<u8>,
    /// Bytes of `buf` already read: dropped when the next chunk comes in,
    /// not row by row (that would move the rest of the chunk for every row).
    off: usize,
    /// File offset of `buf[off]`.
    start: i64,
}

enum Item {
    Row(Vec<Vec<u8>>),
    /// A row over the size cap (skipped).
    TooLong,
    End,
}

impl<'a, D: Db + ?Sized> Reader<'a, D> {
    fn new(db: &'a D, job: &Job, position: i64) -> Reader<'a, D> {
        let delim = job.detected.as_ref().map_or(b',', |d| d.delimiter as u8);
        Reader { db, job_id: job.id.clone(), total: job.total_bytes, delim, buf: Vec::new(), off: 0, start: position }
    }

    fn loaded_to(&self) -> i64 {
        self.start + (self.buf.len() - self.off) as i64
    }

    /// The bytes not read yet.
    fn rest(&self) -> &[u8] {
        &self.buf[self.off..]
    }

    /// Appends the next chunk's bytes from `loaded_to()`; false at the end.
    fn fill(&mut self) -> Result<bool> {
        let at = self.loaded_to();
        if at >= self.total {
            return Ok(false);
        }
        let n = at / CHUNK;
        let data = chunk(self.db, &self.job_id, n)?.ok_or_else(|| wrong(&format!("chunk {n} of the file is missing")))?;
        let skip = (at - n * CHUNK) as usize;
        self.buf.drain(..self.off);
        self.off = 0;
        self.buf.extend_from_slice(&data[skip.min(data.len())..]);
        Ok(true)
    }

    /// Loads chunks until `PREFETCH` bytes are waiting (or the file ends).
    fn prefetch(&mut self) -> Result<()> {
        while self.rest().len() < PREFETCH && self.fill()? {}
        Ok(())
    }

    fn consume(&mut self, n: usize) {
        self.off += n;
        self.start += n as i64;
    }

    /// The file position after the last item read.
    fn position(&self) -> i64 {
        self.start
    }

    fn next(&mut self) -> Result<Item> {
        loop {
            let eof = self.loaded_to() >= self.total;
            if self.rest().is_empty() && !eof {
                self.fill()?;
                continue;
            }
            match csv::next_record(self.rest(), self.delim, eof) {
                Next::Record(fields, n) => {
                    self.consume(n);
                    // Blank lines are not rows.
                    if fields.len() == 1 && fields[0].iter().all(|b| b.is_ascii_whitespace()) {
                        continue;
                    }
                    return Ok(Item::Row(fields));
                }
                Next::End => return Ok(Item::End),
                Next::NeedMore => {
                    if !self.fill()? {
                        // Cannot happen with eof set; guard against a loop anyway.
                        return Ok(Item::End);
                    }
                }
                Next::TooLong(_) => {
                    self.skip_row()?;
                    return Ok(Item::TooLong);
                }
            }
        }
    }

    /// Skips the current row however long it is, without buffering it.
    fn skip_row(&mut self) -> Result<()> {
        let mut in_quotes = false;
        loop {
            let mut end = None;
            for (i, b) in self.rest().iter().enumerate() {
                match b {
                    b'"' => in_quotes = !in_quotes,
                    b'\n' if !in_quotes => {
                        end = Some(i + 1);
                        break;
                    }
                    _ => {}
                }
            }
            match end {
                Some(n) => {
                    self.consume(n);
                    return Ok(());
                }
                None => {
                    let all = self.rest().len();
                    self.consume(all);
                    if !self.fill()? {
                        return Ok(());
                    }
                }
            }
        }
    }
}

fn decode_headers(raw: &[Vec<u8>], enc: Encoding) -> Vec<String> {
    raw.iter().enumerate().map(|(i, h)| csv::decode(h, enc).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).unwrap_or_else(|| format!("Column {}", i + 1))).collect()
}

/// What the client needs to map columns: the job, sample rows, suggestion.
#[derive(Debug, Serialize)]
pub struct Analysis {
    pub job: Job,
    pub sample: Vec<Vec<String>>,
    pub suggested: Mapping,
    pub remembered: bool,
    pub targets: Vec<String>,
}

/// Ends the upload: checks every chunk is there, detects encoding and
/// delimiter, reads the header row and a sample, suggests a mapping (the
/// remembered one for the same headers, if any).
pub fn complete_upload<D: Db + ?Sized>(db: &D, job: &Job) -> Result<Analysis> {
    if job.status != "uploading" && job.status != "mapping" && job.status != "ready" {
        return Err(wrong("the import has started already"));
    }
    let r = db.run("SELECT count(*), COALESCE(sum(length(data)), 0) FROM import_chunks WHERE import_id = ?", &[job.id.as_str().into()])?;
    let (n, bytes) = r.first().map(|row| (row.i64(0).unwrap_or(0), row.i64(1).unwrap_or(0))).unwrap_or((0, 0));
    if n != chunks_expected(job.total_bytes) || bytes != job.total_bytes {
        return Err(wrong(&format!("the upload is incomplete: {bytes} of {} bytes", job.total_bytes)));
    }
    let first = chunk(db, &job.id, 0)?.unwrap_or_default();
    let detected = csv::detect(&first[..first.len().min(64 * 1024)]);
    let mut j = job.clone();
    j.detected = Some(detected.clone());
    let mut reader = Reader::new(db, &j, detected.bom as i64);
    let headers = match reader.next()? {
        Item::Row(h) => decode_headers(&h, detected.encoding),
        _ => return Err(Invalid(vec![FieldError::new("file", "has no header row")]).into()),
    };
    let data_start = reader.position();
    let mut sample = Vec::new();
    while sample.len() < 10 {
        match reader.next()? {
            Item::Row(r) => sample.push(r.iter().map(|f| csv::decode(f, detected.encoding).unwrap_or_else(|| String::from_utf8_lossy(f).into_owned())).collect()),
            Item::TooLong => continue,
            Item::End => break,
        }
    }
    let defs = fields::list(db, Some(job.entity))?;
    let sig = import::signature(job.entity, &headers);
    let remembered: Option<Mapping> = db
        .run("SELECT mapping FROM import_mappings WHERE signature = ?", &[sig.into()])?
        .first()
        .and_then(|r| r.str(0).and_then(|s| serde_json::from_str(s).ok()))
        .filter(|m: &Mapping| m.check(job.entity, &defs, headers.len()).is_ok());
    let is_remembered = remembered.is_some();
    let suggested = remembered.unwrap_or_else(|| {
        let columns = import::suggest(job.entity, &headers, &defs);
        let has = |t: &str| columns.iter().any(|c| c.as_deref() == Some(t));
        let match_by = if has("external_id") {
            MatchBy::ExternalId
        } else if has("email") || has("domain") {
            MatchBy::Email
        } else {
            MatchBy::None
        };
        Mapping { columns, match_by, update_existing: true, create_companies: false }
    });
    db.run(
        "UPDATE imports SET status = CASE WHEN status = 'uploading' THEN 'mapping' ELSE status END, encoding = ?, delimiter = ?, bom = ?, headers = ?, position = ?, updated_at = ? WHERE id = ?",
        &[
            serde_json::to_value(detected.encoding)?.as_str().unwrap_or("utf-8").into(),
            detected.delimiter.to_string().into(),
            Val::Int(detected.bom as i64),
            serde_json::to_string(&headers)?.into(),
            Val::Int(data_start),
            edge_db::now().into(),
            job.id.as_str().into(),
        ],
    )?;
    let job = get(db, &job.id)?.ok_or(NotFound)?;
    Ok(Analysis { job, sample, suggested, remembered: is_remembered, targets: import::targets(j.entity, &defs) })
}

/// Sets (and remembers for files with the same headers) the column mapping.
pub fn set_mapping<D: Db + ?Sized>(db: &D, job: &Job, mapping: &Mapping, encoding: Option<Encoding>) -> Result<Job> {
    if job.status != "mapping" && job.status != "ready" {
        return Err(wrong("the mapping can only change before the import runs"));
    }
    let defs = fields::list(db, Some(job.entity))?;
    mapping.check(job.entity, &defs, job.headers.len()).map_err(Invalid)?;
    edge_db::tx(db, || {
        let text = serde_json::to_string(mapping)?;
        let mut sets = vec!["status = 'ready'", "mapping = ?", "updated_at = ?"];
        let mut params: Vec<Val> = vec![text.as_str().into(), edge_db::now().into()];
        if let Some(e) = encoding {
            sets.push("encoding = ?");
            params.push(serde_json::to_value(e)?.as_str().unwrap_or("utf-8").into());
        }
        params.push(job.id.as_str().into());
        db.run(&format!("UPDATE imports SET {} WHERE id = ?", sets.join(", ")), &params)?;
        db.run(
            "INSERT OR REPLACE INTO import_mappings (signature, mapping, updated_at) VALUES (?, ?, ?)",
            &[import::signature(job.entity, &job.headers).into(), text.into(), edge_db::now().into()],
        )?;
        get(db, &job.id)?.ok_or_else(|| NotFound.into())
    })
}

/// A row's problems.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowReport {
    /// Line of the row in the file as a spreadsheet numbers it (header = 1).
    pub row: i64,
    pub errors: Vec<FieldError>,
}

/// Checks the first `n` rows against the mapping without writing anything.
pub fn preview<D: Db + ?Sized>(db: &D, job: &Job, n: usize) -> Result<Vec<RowReport>> {
    let (Some(mapping), Some(det)) = (&job.mapping, &job.detected) else { return Err(wrong("set a mapping first")) };
    let defs = fields::list(db, Some(job.entity))?;
    let mut reader = Reader::new(db, job, job.position);
    let mut out = Vec::new();
    let mut row_no = job.rows_done + 1;
    while out.len() < n {
        row_no += 1;
        let errors = match reader.next()? {
            Item::End => break,
            Item::TooLong => vec![FieldError::new("row", &format!("is longer than {} KiB", csv::MAX_ROW_BYTES / 1024))],
            Item::Row(raw) => match row_data(job.entity, &raw, det.encoding, &job.headers, mapping, &defs) {
                Ok(_) => Vec::new(),
                Err(e) => e,
            },
        };
        out.push(RowReport { row: row_no, errors });
    }
    Ok(out)
}

/// A row's validated JSON (for merging into matches) and its match keys.
struct Parsed {
    row: i64,
    json: serde_json::Value,
    /// Contacts: the row already validated (new records use it as is).
    data: Option<ContactData>,
    emails: Vec<String>,
    external_id: Option<String>,
    company: Option<String>,
}

/// The row as JSON input (for merging into matches) and, for contacts, as
/// validated data (the model's checks run here, once).
fn row_data(entity: Entity, raw: &[Vec<u8>], enc: Encoding, headers: &[String], mapping: &Mapping, defs: &[FieldDef]) -> Result<(serde_json::Value, Option<ContactData>), Vec<FieldError>> {
    let v = import::row_input(entity, raw, enc, headers, mapping, defs)?;
    let data = match entity {
        Entity::Contact => Some(import::contact_input(v.clone())?.validate(defs).map_err(|e| import::by_column(e, headers, mapping))?),
        Entity::Company => {
            import::company_input(v.clone())?.validate(defs).map_err(|e| import::by_column(e, headers, mapping))?;
            None
        }
    };
    Ok((v, data))
}

/// Page cache (KiB) while an import runs. SQLite's default of 2 MB keeps
/// fetching the same pages of the tables a batch appends to from the OS: 64 MB
/// loads a million contacts a quarter faster (natively, 27 s → 20 s for 600k).
const IMPORT_CACHE_KIB: i64 = 64 * 1024;
/// SQLite's default, given back: the connection returns to a pool.
const DEFAULT_CACHE_KIB: i64 = 2000;

/// The bigger page cache for as long as it lives.
struct BigCache<'a, D: Db + ?Sized>(&'a D);

impl<'a, D: Db + ?Sized> BigCache<'a, D> {
    fn new(db: &'a D) -> Result<Self> {
        db.run(&format!("PRAGMA cache_size = -{IMPORT_CACHE_KIB}"), &[])?;
        Ok(BigCache(db))
    }
}

impl<D: Db + ?Sized> Drop for BigCache<'_, D> {
    fn drop(&mut self) {
        // Nothing to do if this fails: the pool closes the connection when idle.
        let _ = self.0.run(&format!("PRAGMA cache_size = -{DEFAULT_CACHE_KIB}"), &[]);
    }
}

/// Runs batches until `budget` is spent or the file ends; returns the job.
pub fn run<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, budget: std::time::Duration, max_records: i64) -> Result<Job> {
    let started = std::time::Instant::now();
    let _cache = BigCache::new(db)?;
    // One reader for the call: batches continue in the chunk already loaded.
    let mut reader: Option<Reader<D>> = None;
    // The next batch, read while the last one was being written.
    let mut ahead: Option<Read> = None;
    // How long the last batch took: no point reading ahead a batch the budget has no room for.
    let mut last_batch = std::time::Duration::ZERO;
    loop {
        let job = get(db, id)?.ok_or(NotFound)?;
        match job.status.as_str() {
            "ready" | "running" => {}
            "indexing" => {
                // One index per transaction; the last one finishes the job. (Built
                // even if another bulk load is running: it then goes slower, not wrong.)
                let left = bulk::build_next(db)?;
                edge_db::tx(db, || if left == 0 { finish(db, w, id) } else { set_indexes_left(db, id, left) })?;
                if left == 0 || started.elapsed() >= budget {
                    return get(db, id)?.ok_or_else(|| NotFound.into());
                }
                continue;
            }
            "done" | "failed" | "cancelled" => return Ok(job),
            _ => return Err(wrong("set a mapping first")),
        }
        // The reader is where this batch ends if it was read ahead, else where it starts.
        let want = match &ahead {
            Some(a) if a.from == job.position => a.to,
            _ => job.position,
        };
        if reader.as_ref().is_none_or(|r| r.position() != want) {
            reader = Some(Reader::new(db, &job, job.position));
            ahead = None;
        }
        let Some(r) = reader.as_mut() else { continue };
        let look_ahead = job.entity == Entity::Contact && started.elapsed() + last_batch < budget;
        let batch_started = std::time::Instant::now();
        let done = edge_db::tx(db, || batch(db, w, &job, r, &mut ahead, look_ahead, max_records));
        last_batch = batch_started.elapsed();
        if done.is_err() {
            // The batch rolled back: its reads are undone too.
            reader = None;
            ahead = None;
        }
        match done {
            Ok(true) => return get(db, id)?.ok_or_else(|| NotFound.into()),
            Ok(false) => {}
            // Another caller moved the job on (or cancelled it) meanwhile: look again.
            Err(e) if e.downcast_ref::<Moved>().is_some() => {}
            Err(e) if e.downcast_ref::<LimitReached>().is_some() => {
                let msg = format!("Stopped: {e}. Rows before line {} were imported.", job.rows_done + 2);
                db.run("UPDATE imports SET status = 'failed', message = ?, finished_at = ?, updated_at = ? WHERE id = ?", &[msg.into(), edge_db::now().into(), edge_db::now().into(), id.into()])?;
                return get(db, id)?.ok_or_else(|| NotFound.into());
            }
            Err(e) => return Err(e),
        }
        if started.elapsed() >= budget {
            return get(db, id)?.ok_or_else(|| NotFound.into());
        }
    }
}

#[derive(Default)]
struct Counts {
    created: i64,
    updated: i64,
    unchanged: i64,
    failed: i64,
}

/// A batch's rows, read and parsed from `from` to `to` in the file, not yet written.
struct Read {
    /// Rows of the file before this batch (its first row is line `rows_before + 2`).
    rows_before: i64,
    /// The custom fields it was validated against.
    defs: Vec<FieldDef>,
    rows: Vec<Parsed>,
    problems: Vec<(i64, FieldError)>,
    /// Rows read (blank lines aside), good or not.
    seen: usize,
    ended: bool,
    from: i64,
    to: i64,
}

/// Reads and parses the next batch, after `rows_before` rows of the file.
fn read<D: Db + ?Sized>(job: &Job, reader: &mut Reader<D>, defs: &[FieldDef], mapping: &Mapping, det: &Detected, rows_before: i64) -> Result<Read> {
    let from = reader.position();
    let mut rows: Vec<Parsed> = Vec::new();
    let mut problems: Vec<(i64, FieldError)> = Vec::new();
    // Line numbers: the header is line 1.
    let mut row_no = rows_before + 1;
    let mut ended = false;
    let mut seen = 0;
    let mut bytes = 0;
    while seen < BATCH && bytes < BATCH_BYTES {
        row_no += 1;
        seen += 1;
        let item = reader.next()?;
        if let Item::Row(raw) = &item {
            bytes += raw.iter().map(Vec::len).sum::<usize>();
        }
        match item {
            Item::End => {
                seen -= 1;
                ended = true;
                break;
            }
            Item::TooLong => problems.push((row_no, FieldError::new("row", &format!("is longer than {} KiB and was skipped", csv::MAX_ROW_BYTES / 1024)))),
            Item::Row(raw) => match row_data(job.entity, &raw, det.encoding, &job.headers, mapping, defs) {
                Ok((json, data)) => {
                    let emails: Vec<String> = match job.entity {
                        Entity::Contact => json["email"].as_str().into_iter().map(String::from).chain(json["emails"].as_array().into_iter().flatten().filter_map(|e| e["address"].as_str().map(String::from))).map(|e| e.to_lowercase()).collect(),
                        Entity::Company => json["domain"].as_str().into_iter().map(String::from).chain(json["domains"].as_array().into_iter().flatten().filter_map(|d| d.as_str().map(String::from))).map(|d| crate::model::normalize_domain(&d)).collect(),
                    };
                    let external_id = json["external_id"].as_str().map(String::from);
                    let company = json["company"].as_str().map(String::from);
                    rows.push(Parsed { row: row_no, json, data, emails, external_id, company });
                }
                Err(errs) => problems.extend(errs.into_iter().map(|e| (row_no, e))),
            },
        }
    }
    let to = reader.position();
    Ok(Read { rows_before, defs: defs.to_vec(), rows, problems, seen, ended: ended || to >= job.total_bytes, from, to })
}

/// One batch, inside the caller's transaction; true when the file is done.
/// With `look_ahead`, once its writes are queued (the host writes them
/// behind), the next batch is read into `ahead` meanwhile.
#[allow(clippy::too_many_arguments)]
fn batch<'a, D: Db + ?Sized>(db: &'a D, w: &Writer, job: &Job, reader: &mut Reader<'a, D>, ahead: &mut Option<Read>, look_ahead: bool, max_records: i64) -> Result<bool> {
    let (Some(mapping), Some(det)) = (&job.mapping, &job.detected) else { return Err(wrong("set a mapping first")) };
    let defs = fields::list(db, Some(job.entity))?;
    let indexes_left = match job.entity {
        Entity::Contact if job.indexes_left == 0 && bulk::worth_it(rows_to_come(job), super::record_count(db)?) => bulk::drop_indexes(db)?,
        _ => job.indexes_left,
    };
    let this = match ahead.take() {
        Some(a) if a.from == job.position && a.rows_before == job.rows_done && a.defs == defs => a,
        _ => {
            // Whatever was read ahead does not fit: read again from the job's position.
            if reader.position() != job.position {
                *reader = Reader::new(db, job, job.position);
            }
            read(job, reader, &defs, mapping, det, job.rows_done)?
        }
    };
    let Read { rows, mut problems, seen, ended, to, .. } = this;
    if look_ahead && !ended {
        // The next batch's file bytes come in now: reading them once the writes
        // are queued would wait for those.
        reader.prefetch()?;
    }
    let mut counts = Counts::default();
    match job.entity {
        Entity::Contact => import_contacts(db, w, mapping, &defs, rows, max_records, &mut counts, &mut problems)?,
        Entity::Company => import_companies(db, w, mapping, &defs, rows, &mut counts, &mut problems)?,
    }
    if look_ahead && !ended && reader.position() == to {
        // A batch that cannot be read now is read again (and reports) in its own turn.
        *ahead = read(job, reader, &defs, mapping, det, job.rows_done + seen as i64).ok();
    }
    let failed_rows: std::collections::BTreeSet<i64> = problems.iter().map(|(r, _)| *r).collect();
    counts.failed = failed_rows.len() as i64;
    // Problems, up to a cap per job.
    let kept = db.run("SELECT count(*) FROM import_errors WHERE import_id = ?", &[job.id.as_str().into()])?.scalar_i64().unwrap_or(0);
    let room = (MAX_ERRORS - kept).max(0) as usize;
    let mut seq: HashMap<i64, i64> = HashMap::new();
    let err_rows: Vec<Vec<Val>> = problems
        .into_iter()
        .take(room)
        .map(|(r, e)| {
            let s = seq.entry(r).or_insert(0);
            *s += 1;
            vec![Val::from(job.id.as_str()), Val::Int(r), Val::Int(*s), Val::from(e.field), Val::from(e.message)]
        })
        .collect();
    insert_multi(db, "INSERT OR REPLACE INTO import_errors (import_id, row_no, seq, field, message)", 5, err_rows)?;
    // Only from where this batch began, and only while the job runs: another
    // caller may have moved it on, or cancelled it, since it was read.
    let moved = db.run(
        "UPDATE imports SET status = ?, position = ?, rows_done = rows_done + ?, created = created + ?, updated = updated + ?, unchanged = unchanged + ?, failed = failed + ?, indexes_left = ?, updated_at = ? \
         WHERE id = ? AND position = ? AND status IN ('ready', 'running') RETURNING id",
        &[
            (if ended && indexes_left > 0 { "indexing" } else { "running" }).into(),
            Val::Int(to),
            Val::Int(seen as i64),
            Val::Int(counts.created),
            Val::Int(counts.updated),
            Val::Int(counts.unchanged),
            Val::Int(counts.failed),
            Val::Int(indexes_left),
            edge_db::now().into(),
            job.id.as_str().into(),
            Val::Int(job.position),
        ],
    )?;
    if moved.first().is_none() {
        return Err(Moved.into());
    }
    if ended {
        // The file is no longer needed.
        db.run("DELETE FROM import_chunks WHERE import_id = ?", &[job.id.as_str().into()])?;
        if indexes_left == 0 {
            finish(db, w, &job.id)?;
        }
    }
    Ok(ended && indexes_left == 0)
}

/// Rows still to come, from the bytes left and the size of the rows so far
/// (none before the first batch: it runs with the indexes and measures).
fn rows_to_come(job: &Job) -> i64 {
    if job.rows_done == 0 || job.position == 0 {
        return 0;
    }
    ((job.total_bytes - job.position) as f64 * job.rows_done as f64 / job.position as f64) as i64
}

fn set_indexes_left<D: Db + ?Sized>(db: &D, id: &str, left: i64) -> Result<()> {
    db.run("UPDATE imports SET indexes_left = ?, updated_at = ? WHERE id = ?", &[Val::Int(left), edge_db::now().into(), id.into()])?;
    Ok(())
}

/// Marks the job done and logs it (in the caller's transaction), once: a
/// tick and the client's `run` may both get to a job that is indexing.
fn finish<D: Db + ?Sized>(db: &D, w: &Writer, id: &str) -> Result<()> {
    let now = edge_db::now();
    let finished = db.run(
        "UPDATE imports SET status = 'done', indexes_left = 0, finished_at = ?, updated_at = ? WHERE id = ? AND status IN ('running', 'indexing') RETURNING id",
        &[now.as_str().into(), now.as_str().into(), id.into()],
    )?;
    if finished.first().is_none() {
        return Ok(());
    }
    let job = get(db, id)?.ok_or(NotFound)?;
    let after = serde_json::json!({"rows": job.rows_done, "created": job.created, "updated": job.updated, "failed": job.failed, "filename": job.filename});
    super::event(db, w, "import", id, "completed", None, Some(&after))
}

/// The scheduler's part: builds indexes a bulk load left missing once no
/// import is loading (cancelled, stopped or abandoned ones included) and
/// finishes jobs whose client left while they were indexing. True when
/// nothing is left to do; a tenant with nothing to do costs two small reads.
pub fn tick<D: Db + ?Sized>(db: &D, budget: std::time::Duration) -> Result<bool> {
    if !bulk::restore(db, budget)? {
        return Ok(false);
    }
    let owing = db.run("SELECT id, status, created_by FROM imports WHERE indexes_left > 0", &[])?;
    for row in owing.iter() {
        let (id, actor) = (row.text(0), row.text(2));
        let random = || [0u8; 10];
        let w = Writer { actor: &actor, request_id: None, random: &random };
        edge_db::tx(db, || if row.str(1) == Some("indexing") { finish(db, &w, &id) } else { set_indexes_left(db, &id, 0) })?;
    }
    Ok(true)
}

/// Company ids by name (case-insensitive), creating missing ones when asked.
fn company_ids<D: Db + ?Sized>(db: &D, w: &Writer, names: &[String], create: bool) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for chunk in names.chunks(500) {
        let r = db.run(
            &format!("SELECT lower(name), min(id) FROM companies WHERE deleted_at IS NULL AND lower(name) IN ({}) GROUP BY lower(name)", marks(chunk.len())),
            &chunk.iter().map(|n| Val::from(n.to_lowercase())).collect::<Vec<_>>(),
        )?;
        out.extend(r.iter().map(|row| (row.text(0), row.text(1))));
    }
    if create {
        for n in names {
            if let std::collections::hash_map::Entry::Vacant(slot) = out.entry(n.to_lowercase()) {
                let c = companies::insert_in_tx(db, w, crate::model::CompanyData { name: n.clone(), ..Default::default() })?;
                slot.insert(c.id);
            }
        }
    }
    Ok(out)
}

/// A row-level failure: recorded for the row, the batch goes on.
fn row_failed(e: anyhow::Error, row: i64, problems: &mut Vec<(i64, FieldError)>) -> Result<()> {
    match e.downcast::<Invalid>() {
        Ok(Invalid(errs)) => {
            problems.extend(errs.into_iter().map(|e| (row, e)));
            Ok(())
        }
        Err(e) => Err(e),
    }
}

#[allow(clippy::too_many_arguments)]
fn import_contacts<D: Db + ?Sized>(
    db: &D,
    w: &Writer,
    mapping: &Mapping,
    defs: &[FieldDef],
    rows: Vec<Parsed>,
    max_records: i64,
    counts: &mut Counts,
    problems: &mut Vec<(i64, FieldError)>,
) -> Result<()> {
    // Link to companies by name.
    let mut names: Vec<String> = rows.iter().filter_map(|r| r.company.clone()).collect();
    names.sort();
    names.dedup();
    let by_name = if mapping.columns.iter().any(|c| c.as_deref() == Some("company")) { company_ids(db, w, &names, mapping.create_companies)? } else { HashMap::new() };
    // Existing matches for the whole batch.
    let existing: HashMap<String, String> = match mapping.match_by {
        MatchBy::Email => contacts::ids_by_email(db, &rows.iter().flat_map(|r| r.emails.iter().cloned()).collect::<Vec<_>>())?,
        MatchBy::ExternalId => contacts::ids_by_external(db, &rows.iter().filter_map(|r| r.external_id.clone()).collect::<Vec<_>>())?,
        MatchBy::None => HashMap::new(),
    };
    // External ids already taken (they are unique), for rows that create.
    let taken_external = contacts::ids_by_external(db, &rows.iter().filter_map(|r| r.external_id.clone()).collect::<Vec<_>>())?;
    let matched_ids: Vec<String> = existing.values().cloned().collect();
    let mut current: HashMap<String, Contact> = contacts::get_many(db, &matched_ids)?.into_iter().map(|c| (c.id.clone(), c)).collect();
    // Keys of rows created earlier in this batch → index into `new`.
    let mut pending: HashMap<String, usize> = HashMap::new();
    let mut new_external: std::collections::HashSet<String> = Default::default();
    let mut new: Vec<(serde_json::Value, ContactData)> = Vec::new();
    for mut r in rows {
        let linked = r.company.as_ref().and_then(|n| by_name.get(&n.to_lowercase())).cloned();
        if let Some(id) = &linked {
            r.json["company_id"] = serde_json::Value::String(id.clone());
        }
        let keys: Vec<String> = match mapping.match_by {
            MatchBy::Email => r.emails.clone(),
            MatchBy::ExternalId => r.external_id.iter().cloned().collect(),
            MatchBy::None => vec![],
        };
        if let Some(id) = keys.iter().find_map(|k| existing.get(k)) {
            if !mapping.update_existing {
                counts.unchanged += 1;
                continue;
            }
            let Some(before) = current.get(id).cloned() else { continue };
            let mut input = before.to_input();
            merge_patch(&mut input, &r.json);
            let updated = import::contact_input(input)
                .and_then(|i| i.validate(defs))
                .map_err(|e| anyhow::Error::from(Invalid(import::by_column(e, &[], mapping))))
                .and_then(|data| contacts::update_in_tx(db, w, before.clone(), data));
            match updated {
                Ok(after) => {
                    if after.version == before.version {
                        counts.unchanged += 1;
                    } else {
                        counts.updated += 1;
                    }
                    current.insert(after.id.clone(), after);
                }
                Err(e) => row_failed(e, r.row, problems)?,
            }
        } else if let Some(&i) = keys.iter().find_map(|k| pending.get(k)) {
            // The same person again in this batch: later values win, as if the
            // first row had been committed and this one updated it.
            let mut merged = new[i].0.clone();
            merge_patch(&mut merged, &r.json);
            match import::contact_input(merged.clone()).and_then(|i| i.validate(defs)) {
                Ok(data) if data == new[i].1 => counts.unchanged += 1,
                Ok(data) => {
                    new[i] = (merged, data);
                    counts.updated += 1;
                }
                Err(e) => problems.extend(import::by_column(e, &[], mapping).into_iter().map(|e| (r.row, e))),
            }
        } else {
            if let Some(x) = &r.external_id {
                if taken_external.contains_key(x) || !new_external.insert(x.clone()) {
                    problems.push((r.row, FieldError::new("external_id", "already names another record")));
                    continue;
                }
            }
            let validated = match (r.data.take(), linked) {
                (Some(mut d), Some(id)) => {
                    d.company_ids.retain(|c| c != &id);
                    d.company_ids.insert(0, id.clone());
                    d.company_id = Some(id);
                    Ok(d)
                }
                (Some(d), None) => Ok(d),
                (None, _) => import::contact_input(r.json.clone()).and_then(|i| i.validate(defs)),
            };
            match validated {
                Ok(data) => {
                    for k in keys {
                        pending.insert(k, new.len());
                    }
                    new.push((r.json, data));
                }
                Err(e) => problems.extend(e.into_iter().map(|e| (r.row, e))),
            }
        }
    }
    counts.created += contacts::insert_many_in_tx(db, w, new.into_iter().map(|(_, d)| d).collect(), max_records)? as i64;
    Ok(())
}

fn import_companies<D: Db + ?Sized>(db: &D, w: &Writer, mapping: &Mapping, defs: &[FieldDef], rows: Vec<Parsed>, counts: &mut Counts, problems: &mut Vec<(i64, FieldError)>) -> Result<()> {
    for r in rows {
        let found = match mapping.match_by {
            MatchBy::Email => r.emails.iter().find_map(|d| companies::by_domain(db, d).ok().flatten()),
            MatchBy::ExternalId => match &r.external_id {
                Some(x) => db.run("SELECT id FROM companies WHERE external_id = ? AND deleted_at IS NULL", &[x.as_str().into()])?.first().map(|row| row.text(0)),
                None => None,
            },
            MatchBy::None => None,
        };
        let result = match found.and_then(|id| companies::get(db, &id, &Visibility::All, false).ok().flatten()) {
            Some(_) if !mapping.update_existing => {
                counts.unchanged += 1;
                Ok(())
            }
            Some(before) => {
                let mut input = before.to_input();
                merge_patch(&mut input, &r.json);
                import::company_input(input)
                    .and_then(|i| i.validate(defs))
                    .map_err(|e| anyhow::Error::from(Invalid(e)))
                    .and_then(|data| companies::update_in_tx(db, w, before.clone(), data))
                    .map(|after: Company| {
                        if after.version == before.version {
                            counts.unchanged += 1;
                        } else {
                            counts.updated += 1;
                        }
                    })
            }
            None => import::company_input(r.json)
                .and_then(|i| i.validate(defs))
                .map_err(|e| anyhow::Error::from(Invalid(e)))
                .and_then(|data| companies::insert_in_tx(db, w, data))
                .map(|_| counts.created += 1),
        };
        if let Err(e) = result {
            row_failed(e, r.row, problems)?;
        }
    }
    Ok(())
}

/// Per-row problems, in file order, after `after_row`.
pub fn errors<D: Db + ?Sized>(db: &D, id: &str, after_row: i64, limit: i64) -> Result<Vec<RowReport>> {
    let r = db.run(
        "SELECT row_no, field, message FROM import_errors WHERE import_id = ? AND row_no > ? AND row_no <= (SELECT COALESCE(max(row_no), 0) FROM (SELECT DISTINCT row_no FROM import_errors WHERE import_id = ? AND row_no > ? ORDER BY row_no LIMIT ?)) ORDER BY row_no, seq",
        &[id.into(), Val::Int(after_row), id.into(), Val::Int(after_row), Val::Int(limit)],
    )?;
    let mut out: Vec<RowReport> = Vec::new();
    for row in r.iter() {
        let n = row.i64(0).unwrap_or(0);
        let e = FieldError::new(&row.text(1), &row.text(2));
        match out.last_mut() {
            Some(last) if last.row == n => last.errors.push(e),
            _ => out.push(RowReport { row: n, errors: vec![e] }),
        }
    }
    Ok(out)
}

/// Forgets a finished job (its report and any file left); the records stay.
pub fn delete<D: Db + ?Sized>(db: &D, job: &Job) -> Result<()> {
    if job.status == "running" || job.status == "indexing" {
        return Err(wrong("cancel the import first"));
    }
    edge_db::tx(db, || {
        for sql in ["DELETE FROM import_chunks WHERE import_id = ?", "DELETE FROM import_errors WHERE import_id = ?", "DELETE FROM imports WHERE id = ?"] {
            db.run(sql, &[job.id.as_str().into()])?;
        }
        Ok(())
    })
}

/// Stops a job and drops its file; what was imported stays.
pub fn cancel<D: Db + ?Sized>(db: &D, job: &Job) -> Result<Job> {
    if job.status == "done" || job.status == "indexing" {
        return Err(wrong("the import is finished"));
    }
    edge_db::tx(db, || {
        db.run("DELETE FROM import_chunks WHERE import_id = ?", &[job.id.as_str().into()])?;
        db.run("UPDATE imports SET status = 'cancelled', finished_at = ?, updated_at = ? WHERE id = ?", &[edge_db::now().into(), edge_db::now().into(), job.id.as_str().into()])?;
        get(db, &job.id)?.ok_or_else(|| NotFound.into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{db, writer};
    use std::time::Duration;

    fn upload<D: Db>(db: &D, w: &Writer, file: &[u8]) -> Job {
        let job = create(db, w, Entity::Contact, "people.csv", file.len() as i64).unwrap();
        for (n, c) in file.chunks(CHUNK as usize).enumerate() {
            put_chunk(db, &job, n as i64, c).unwrap();
        }
        get(db, &job.id).unwrap().unwrap()
    }

    fn count<D: Db>(db: &D) -> i64 {
        db.run("SELECT count(*) FROM contacts WHERE deleted_at IS NULL", &[]).unwrap().scalar_i64().unwrap()
    }

    fn big_file(n: usize) -> Vec<u8> {
        let mut f = String::from("First Name,Last Name,Email,Notes\r\n");
        for i in 0..n {
            f.push_str(&format!("Person{i},\"Surname, {i}\",p{i}@example.com,\"line one\nline two \"\"quoted\"\"\"\r\n"));
        }
        f.into_bytes()
    }

    #[test]
    fn a_file_across_chunks_imports_once_and_a_rerun_changes_nothing() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let file = big_file(20_000);
        assert!(file.len() as i64 > 2 * CHUNK, "spans chunks");
        let job = upload(&db, &w, &file);
        let a = complete_upload(&db, &job).unwrap();
        assert_eq!(a.job.headers, vec!["First Name", "Last Name", "Email", "Notes"]);
        assert_eq!(a.suggested.columns[..3], [Some("first_name".to_string()), Some("last_name".to_string()), Some("email".to_string())]);
        assert_eq!(a.suggested.match_by, MatchBy::Email);
        assert_eq!(a.sample[0][1], "Surname, 0");
        let job = set_mapping(&db, &a.job, &a.suggested, None).unwrap();
        // Small budgets: one batch per call, like a client polling with progress.
        let mut calls = 0;
        let mut last = job.clone();
        while last.status != "done" {
            last = run(&db, &w, &job.id, Duration::ZERO, i64::MAX).unwrap();
            assert!(last.position <= last.total_bytes);
            calls += 1;
        }
        assert_eq!(calls, 20_000 / BATCH, "one batch a call");
        assert_eq!((last.created, last.failed, last.rows_done), (20_000, 0, 20_000));
        assert_eq!(count(&db), 20_000);
        assert_eq!(last.progress(), 1.0);
        assert!(db.run("SELECT count(*) FROM import_chunks", &[]).unwrap().scalar_i64() == Some(0), "the file is dropped when done");
        let (found, _) = contacts::list(&db, &crate::ListQuery::parse("q=person19999").unwrap(), &Visibility::All, &[]).unwrap();
        assert_eq!(found[0].last_name.as_deref(), Some("Surname, 19999"));

        // The same file again: the remembered mapping, nothing changes.
        let job2 = upload(&db, &w, &file);
        let a2 = complete_upload(&db, &job2).unwrap();
        assert!(a2.remembered);
        set_mapping(&db, &a2.job, &a2.suggested, None).unwrap();
        let done = run(&db, &w, &job2.id, Duration::from_secs(60), i64::MAX).unwrap();
        assert_eq!((done.created, done.updated, done.unchanged), (0, 0, 20_000));
        assert_eq!(count(&db), 20_000);
    }

    /// A big load drops the random-order indexes after its first batch, goes
    /// through `indexing` while it builds them again (the tick finishes a job
    /// its client left), and ends with every row once and every index back;
    /// one cancelled mid-load gets them back from the tick.
    #[test]
    fn a_bulk_load_builds_the_indexes_it_dropped() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let rows = bulk::MIN_ROWS as usize + 2 * BATCH;
        let job = upload(&db, &w, &big_file(rows));
        let a = complete_upload(&db, &job).unwrap();
        set_mapping(&db, &a.job, &a.suggested, None).unwrap();
        let first = run(&db, &w, &job.id, Duration::ZERO, i64::MAX).unwrap();
        assert_eq!((first.indexes_left, bulk::missing(&db).unwrap().len()), (0, 0), "the first batch measures the rows");
        let second = run(&db, &w, &job.id, Duration::ZERO, i64::MAX).unwrap();
        assert_eq!((second.status.as_str(), second.indexes_left), ("running", bulk::DEFERRABLE.len() as i64));
        assert_eq!(bulk::missing(&db).unwrap().len(), bulk::DEFERRABLE.len());
        assert!(!tick(&db, Duration::from_secs(10)).unwrap(), "the tick leaves a loading import alone");
        let mut last = second;
        while last.status == "running" {
            last = run(&db, &w, &job.id, Duration::ZERO, i64::MAX).unwrap();
        }
        let n = bulk::DEFERRABLE.len() as i64;
        assert_eq!((last.status.as_str(), last.indexes_left), ("indexing", n), "every row is in");
        let next = run(&db, &w, &job.id, Duration::ZERO, i64::MAX).unwrap();
        assert_eq!((next.status.as_str(), next.indexes_left), ("indexing", n - 1), "one index per call");
        // The client leaves: the tick builds the rest and finishes the job, once.
        assert!(tick(&db, Duration::from_secs(10)).unwrap());
        let last = run(&db, &w, &job.id, Duration::ZERO, i64::MAX).unwrap();
        assert_eq!((last.status.as_str(), last.created, last.failed, last.indexes_left), ("done", rows as i64, 0, 0));
        assert!(bulk::missing(&db).unwrap().is_empty());
        assert_eq!(count(&db), rows as i64);
        let (found, _) = contacts::list(&db, &crate::ListQuery::parse("sort=last_name&limit=3").unwrap(), &Visibility::All, &[]).unwrap();
        assert_eq!(found.iter().map(|c| c.last_name.clone().unwrap_or_default()).collect::<Vec<_>>(), ["Surname, 0", "Surname, 1", "Surname, 10"]);
        let completed = db.run("SELECT count(*) FROM contacts_events WHERE entity = 'import' AND entity_id = ? AND action = 'completed'", &[job.id.as_str().into()]).unwrap().scalar_i64();
        assert_eq!(completed, Some(1));

        // Cancelled mid-load: the tick builds them again.
        let job2 = upload(&db, &w, &big_file(rows));
        let a2 = complete_upload(&db, &job2).unwrap();
        let mut m = a2.suggested.clone();
        m.match_by = MatchBy::None;
        set_mapping(&db, &a2.job, &m, None).unwrap();
        run(&db, &w, &job2.id, Duration::ZERO, i64::MAX).unwrap();
        assert!(run(&db, &w, &job2.id, Duration::ZERO, i64::MAX).unwrap().indexes_left > 0);
        let cancelled = cancel(&db, &get(&db, &job2.id).unwrap().unwrap()).unwrap();
        assert_eq!(cancelled.status, "cancelled");
        assert!(tick(&db, Duration::from_secs(10)).unwrap());
        assert!(bulk::missing(&db).unwrap().is_empty());
        assert_eq!(get(&db, &job2.id).unwrap().unwrap().indexes_left, 0);
    }

    #[test]
    fn batches_of_long_rows_stop_at_a_size_cap() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let notes = "n".repeat(60 * 1024);
        let file: String = std::iter::once("Name,Email,Notes\n".to_string()).chain((0..300).map(|i| format!("P{i},p{i}@example.com,{notes}\n"))).collect();
        let job = upload(&db, &w, file.as_bytes());
        let a = complete_upload(&db, &job).unwrap();
        set_mapping(&db, &a.job, &a.suggested, None).unwrap();
        let first = run(&db, &w, &job.id, Duration::ZERO, i64::MAX).unwrap();
        let cap = (BATCH_BYTES / notes.len()) as i64;
        assert!((cap..=cap + 1).contains(&first.rows_done), "{} rows in the first batch", first.rows_done);
        let done = run(&db, &w, &job.id, Duration::from_secs(60), i64::MAX).unwrap();
        assert_eq!((done.status.as_str(), done.created, done.failed), ("done", 300, 0));
    }

    #[test]
    fn a_batch_that_fails_leaves_the_position_where_it_was() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let job = upload(&db, &w, &big_file(BATCH * 5 / 2));
        let a = complete_upload(&db, &job).unwrap();
        set_mapping(&db, &a.job, &a.suggested, None).unwrap();
        let after_one = run(&db, &w, &job.id, Duration::ZERO, i64::MAX).unwrap();
        let one = BATCH as i64;
        assert_eq!(after_one.rows_done, one);
        // The next batch hits the plan limit: nothing of it is written.
        let stopped = run(&db, &w, &job.id, Duration::ZERO, one * 3 / 2).unwrap();
        assert_eq!(stopped.status, "failed");
        assert_eq!((stopped.rows_done, stopped.position), (one, after_one.position));
        assert_eq!(count(&db), one);
    }

    #[test]
    fn bad_rows_are_reported_and_good_rows_still_import() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let long = "x".repeat(10 * 1024 * 1024);
        let file = format!(
            "Name,Email,Phone\n\
             Ada Lovelace,ada@example.com,+44 20 7946 0958\n\
             Bad Email,not-an-email,\n\
             Ragged,row\n\
             =cmd|' /C calc'!A0,evil@example.com,\n\
             {long},long@example.com,\n\
             \"Grace, Admiral\",grace@example.com,-\n\
             Ada Again,ada@example.com,\n"
        );
        let job = upload(&db, &w, file.as_bytes());
        let a = complete_upload(&db, &job).unwrap();
        let preview = preview(&db, &set_mapping(&db, &a.job, &a.suggested, None).unwrap(), 3).unwrap();
        assert_eq!(preview.iter().map(|r| r.errors.len()).collect::<Vec<_>>(), vec![0, 1, 1]);
        let done = run(&db, &w, &job.id, Duration::from_secs(60), i64::MAX).unwrap();
        assert_eq!(done.status, "done");
        let report = errors(&db, &job.id, 0, 100).unwrap();
        let rows: Vec<(i64, String)> = report.iter().map(|r| (r.row, r.errors[0].field.clone())).collect();
        assert_eq!(rows, vec![(3, "Email".to_string()), (4, "row".into()), (5, "Name".into()), (6, "row".into()), (7, "Phone".into())]);
        assert!(report[3].errors[0].message.contains("longer than"));
        assert_eq!((done.created, done.updated, done.failed), (1, 1, 5), "Ada, then Ada again updates her");
        assert_eq!(count(&db), 1);
        assert!(errors(&db, &job.id, 5, 100).unwrap().len() == 2, "report pages");
    }

    /// Counts the file chunks a run reads.
    struct Counting<'a>(&'a edge_db::native::Connection, std::cell::Cell<usize>);
    impl Db for Counting<'_> {
        fn run(&self, sql: &str, params: &[Val]) -> Result<edge_db::Rows> {
            if sql.starts_with("SELECT data FROM import_chunks") {
                self.1.set(self.1.get() + 1);
            }
            self.0.run(sql, params)
        }
    }

    #[test]
    fn batches_read_ahead_report_exact_lines_and_read_each_chunk_once() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        // Three batches; a bad email in the second and in the third.
        let mut f = String::from("First Name,Email\n");
        for i in 1..=25_000 {
            let email = if i == 12_345 || i == 23_456 { "not-an-email".to_string() } else { format!("p{i}@example.com") };
            f.push_str(&format!("Person{i},{email}\n"));
        }
        let job = upload(&db, &w, f.as_bytes());
        let a = complete_upload(&db, &job).unwrap();
        set_mapping(&db, &a.job, &a.suggested, None).unwrap();
        let counting = Counting(&db, Default::default());
        let done = run(&counting, &w, &job.id, Duration::from_secs(600), i64::MAX).unwrap();
        assert_eq!((done.status.as_str(), done.rows_done, done.created, done.failed), ("done", 25_000, 24_998, 2));
        let rows: Vec<i64> = errors(&db, &job.id, 0, 10).unwrap().iter().map(|r| r.row).collect();
        assert_eq!(rows, vec![12_346, 23_457], "line numbers count the header");
        assert_eq!(counting.1.get() as i64, chunks_expected(job.total_bytes), "each chunk read once");
        assert_eq!(count(&db), 24_998);
    }

    #[test]
    fn companies_import_across_batches() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let mut f = String::from("Company,Domain\n");
        for i in 1..=(BATCH + 2_000) {
            let domain = if i == BATCH + 1_000 { "not a domain".to_string() } else { format!("co{i}.example") };
            f.push_str(&format!("Company {i},{domain}\n"));
        }
        let job = create(&db, &w, Entity::Company, "companies.csv", f.len() as i64).unwrap();
        for (n, c) in f.as_bytes().chunks(CHUNK as usize).enumerate() {
            put_chunk(&db, &job, n as i64, c).unwrap();
        }
        let a = complete_upload(&db, &get(&db, &job.id).unwrap().unwrap()).unwrap();
        set_mapping(&db, &a.job, &a.suggested, None).unwrap();
        let done = run(&db, &w, &job.id, Duration::from_secs(600), i64::MAX).unwrap();
        assert_eq!((done.status.as_str(), done.created, done.failed), ("done", BATCH as i64 + 1_999, 1));
        assert_eq!(errors(&db, &job.id, 0, 10).unwrap().iter().map(|r| r.row).collect::<Vec<_>>(), vec![BATCH as i64 + 1_001]);
        let n = db.run("SELECT count(*) FROM companies WHERE deleted_at IS NULL", &[]).unwrap().scalar_i64();
        assert_eq!(n, Some(BATCH as i64 + 1_999));
    }

    #[test]
    fn latin1_files_decode() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let job = upload(&db, &w, b"Name;City;E-mail\nZo\xEB M\xFCller;K\xF6ln;zoe@example.de\n");
        let a = complete_upload(&db, &job).unwrap();
        assert_eq!(a.job.detected.as_ref().map(|d| (d.encoding, d.delimiter)), Some((Encoding::Latin1, ';')));
        set_mapping(&db, &a.job, &a.suggested, None).unwrap();
        run(&db, &w, &job.id, Duration::from_secs(10), i64::MAX).unwrap();
        let c = contacts::get_many(&db, &contacts::by_emails(&db, &["zoe@example.de".into()]).unwrap()).unwrap();
        assert_eq!((c[0].first_name.as_deref(), c[0].last_name.as_deref(), c[0].address.as_ref().and_then(|a| a.city.as_deref())), (Some("Zoë"), Some("Müller"), Some("Köln")));
    }
}

/// `cargo test --release -p contacts-domain native_import_rate -- --ignored --nocapture`:
/// the import's own rate natively (100,000 rows linked to 1,000 companies),
/// to tell the domain's cost from the wasm host's.
#[cfg(test)]
mod measure {
    use super::*;
    use crate::store::testing::{db, writer};

    #[test]
    #[ignore]
    fn native_import_rate() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let mut f = String::from("First Name,Last Name,Email,Company\r\n");
        for i in 0..100_000 {
            f.push_str(&format!("Person{i},Surname{i},p{i}@example.com,Co{}\r\n", i % 1000));
        }
        let file = f.into_bytes();
        let job = create(&db, &w, Entity::Contact, "people.csv", file.len() as i64).unwrap();
        for (n, c) in file.chunks(CHUNK as usize).enumerate() {
            put_chunk(&db, &job, n as i64, c).unwrap();
        }
        let job = get(&db, &job.id).unwrap().unwrap();
        let a = complete_upload(&db, &job).unwrap();
        let mut m = a.suggested.clone();
        m.create_companies = true;
        let job = set_mapping(&db, &a.job, &m, None).unwrap();
        let t = std::time::Instant::now();
        let done = run(&db, &w, &job.id, std::time::Duration::from_secs(600), i64::MAX).unwrap();
        eprintln!("native import: {} rows in {:?} = {:.0} rows/s", done.created, t.elapsed(), done.created as f64 / t.elapsed().as_secs_f64());
    }
}
