//! `steward export`, `import`, `backup` and `restore`: moving data in and
//! out. The line format and the import rules are core's (`Portable`,
//! `Engine::import_batch`); this module streams lines and shows progress.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use steward::{Conflict, Error, ExportCursor, FieldError, Principal, Steward, TaskQuery, ThoughtQuery};

use crate::cli::Global;
use crate::content_key::ContentKeys;
use crate::errors::Failure;
use crate::output::Output;

/// Records fetched per export page.
const EXPORT_PAGE: u32 = 1000;
/// Failed lines listed one by one before the rest are only counted.
const LIST_FAILURES: usize = 50;

fn is_stdio(path: &Path) -> bool {
    path.as_os_str() == "-"
}

fn bar(len: Option<u64>, unit: &str) -> ProgressBar {
    let bar = match len {
        Some(len) => ProgressBar::new(len),
        None => ProgressBar::new_spinner(),
    };
    let template = format!("{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {unit} ({{per_sec}})");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

pub(crate) async fn export(steward: &Steward, p: &Principal, file: &Path, out: Output) -> Result<(), Failure> {
    let one = steward::PageRequest { limit: 1, offset: 0 };
    let thoughts = steward.thoughts(p, ThoughtQuery { page: one, ..ThoughtQuery::default() }).await?.total;
    let tasks = steward.tasks(p, TaskQuery { page: one, ..TaskQuery::default() }).await?.total;
    let to_stdout = is_stdio(file);
    let sink: Box<dyn Write> = if to_stdout {
        Box::new(io::stdout().lock())
    } else {
        if file.exists() {
            return Err(Error::Conflict(Conflict::DestinationExists { path: file.display().to_string() }).into());
        }
        Box::new(File::create(file).map_err(|error| Failure::Io { doing: "create the export file", error })?)
    };
    let mut sink = BufWriter::new(sink);
    let progress = bar(Some(thoughts + tasks), "records");
    let mut cursor = ExportCursor::Start;
    let mut written = 0u64;
    while cursor != ExportCursor::Done {
        let (page, next) = steward.export_page(p, cursor, EXPORT_PAGE).await?;
        for record in &page {
            serde_json::to_writer(&mut sink, record)
                .map_err(|e| Failure::Io { doing: "write the export", error: e.into() })?;
            sink.write_all(b"\n")?;
        }
        written += page.len() as u64;
        progress.inc(page.len() as u64);
        cursor = next;
    }
    sink.flush()?;
    progress.finish_and_clear();
    let summary = format!("exported {written} records ({thoughts} thoughts, {tasks} tasks)");
    if to_stdout {
        eprintln!("{summary}");
        return Ok(());
    }
    let report =
        json!({ "file": file.display().to_string(), "records": written, "thoughts": thoughts, "tasks": tasks });
    out.emit(&report, || format!("{summary} to {}", file.display()))
}

/// `steward import`. Lines are read as bytes and decoded one by one, so a
/// line that is not UTF-8 is reported by number like any other bad line; a
/// UTF-8 byte order mark at the start is skipped. Each batch is committed
/// before the next is read: when the import stops part-way (an unreadable
/// file, the database gone), the error says what was committed.
/// How `steward import` runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ImportOptions {
    /// Lines per transaction.
    pub(crate) batch_size: u32,
    /// Fresh ids for lines without one, instead of content keys.
    pub(crate) new_ids: bool,
}

pub(crate) async fn import(
    steward: &Steward,
    p: &Principal,
    file: &Path,
    options: ImportOptions,
    out: Output,
) -> Result<(), Failure> {
    let batch_size = options.batch_size;
    let mut keys = (!options.new_ids).then(|| ContentKeys::new(p.user_id));
    // Lines whose id came from their content: a duplicate is a line an
    // earlier run imported.
    let mut keyed: HashSet<u64> = HashSet::new();
    let mut already = 0u64;
    let open_error = |error| Failure::Io { doing: "open the import file", error };
    let (mut reader, len): (Box<dyn BufRead>, Option<u64>) = if is_stdio(file) {
        (Box::new(BufReader::new(io::stdin().lock())), None)
    } else {
        let f = File::open(file).map_err(open_error)?;
        let len = f.metadata().ok().map(|m| m.len());
        (Box::new(BufReader::new(f)), len)
    };
    let progress = bar(len, "bytes");
    let mut report = steward::ImportReport::default();
    let mut batch: Vec<(u64, String)> = Vec::with_capacity(batch_size as usize);
    let mut lines = 0u64;
    let mut number = 0u64;
    let mut bytes = Vec::new();
    loop {
        bytes.clear();
        let read = reader.read_until(b'\n', &mut bytes).map_err(|error| {
            partial(&report, already, number + 1, Failure::Io { doing: "read the import file", error })
        })?;
        if read == 0 {
            break;
        }
        number += 1;
        progress.inc(read as u64);
        let mut raw = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
        raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if number == 1 {
            raw = raw.strip_prefix(UTF8_BOM).unwrap_or(raw);
        }
        let line = match std::str::from_utf8(raw) {
            Ok(line) => line,
            Err(e) => {
                lines += 1;
                let msg = format!("not valid UTF-8 (byte {} of the line)", e.valid_up_to() + 1);
                report.failed.push((number, Error::invalid("line", msg)));
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        lines += 1;
        match keys.as_mut().and_then(|k| k.keyed(line)) {
            Some(with_id) => {
                keyed.insert(number);
                batch.push((number, with_id));
            }
            None => batch.push((number, line.to_string())),
        }
        if batch.len() == batch_size as usize {
            let first = batch.first().map_or(number, |(n, _)| *n);
            let done = steward.import_batch(p, std::mem::take(&mut batch)).await;
            let done = done.map_err(|e| partial(&report, already, first, e.into()))?;
            already += skip_imported(&mut report, done, &keyed);
        }
    }
    if !batch.is_empty() {
        let first = batch.first().map_or(number, |(n, _)| *n);
        let done = steward.import_batch(p, batch).await;
        let done = done.map_err(|e| partial(&report, already, first, e.into()))?;
        already += skip_imported(&mut report, done, &keyed);
    }
    progress.finish_and_clear();
    report.failed.sort_by_key(|(line, _)| *line);
    let failed: Vec<_> = report
        .failed
        .iter()
        .map(|(line, e)| json!({ "line": line, "code": e.code(), "message": e.to_string() }))
        .collect();
    let summary = json!({ "lines": lines, "imported": report.imported, "already_imported": already, "failed": failed });
    out.emit(&summary, || {
        let mut text = format!("imported {} of {lines} lines", report.imported);
        if already > 0 {
            text.push_str(&format!(" ({already} were already imported by an earlier run)"));
        }
        for (line, e) in report.failed.iter().take(LIST_FAILURES) {
            text.push_str(&format!("\n  line {line}: {}", crate::output::escape(&e.to_string())));
        }
        if report.failed.len() > LIST_FAILURES {
            text.push_str(&format!("\n  … and {} more", report.failed.len() - LIST_FAILURES));
        }
        text
    })?;
    if report.failed.is_empty() {
        return Ok(());
    }
    let n = report.failed.len();
    let listed = match (out.is_json(), n > LIST_FAILURES) {
        (true, _) => "listed in the report".to_string(),
        (false, false) => "listed above".to_string(),
        (false, true) => format!("the first {LIST_FAILURES} listed above"),
    };
    let rest = match (report.imported, already) {
        (0, 0) => "nothing was imported".to_string(),
        (0, _) => "the others were already imported".to_string(),
        (1, 0) => "the other line was imported".to_string(),
        (k, 0) => format!("the other {k} were imported"),
        (k, _) => format!("of the others {k} were imported, {already} were already there"),
    };
    let msg = format!("{n} of {lines} lines were not imported ({listed}); {rest}");
    Err(Error::Invalid(vec![FieldError::body("file", msg)]).into())
}

/// A byte order mark some editors put at the start of a UTF-8 file.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Moves the failures of content-keyed lines that were duplicates (lines
/// an earlier run imported) out of `done` and into the count it returns;
/// adds the rest to `report`.
fn skip_imported(report: &mut steward::ImportReport, mut done: steward::ImportReport, keyed: &HashSet<u64>) -> u64 {
    let before = done.failed.len();
    done.failed
        .retain(|(line, e)| !(keyed.contains(line) && matches!(e, Error::Conflict(Conflict::DuplicateId { .. }))));
    let skipped = (before - done.failed.len()) as u64;
    report.merge(done);
    skipped
}

/// `cause`, saying what was committed before it stopped the import at
/// line `at`; running the same import again imports the rest.
fn partial(report: &steward::ImportReport, already: u64, at: u64, cause: Failure) -> Failure {
    let done = format!(
        "import stopped at line {at}: {} records from the lines before it were committed and stay imported \
         ({} already imported, {} not imported); running it again skips what is there",
        report.imported,
        already,
        report.failed.len()
    );
    Failure::Partial { done, cause: Box::new(cause) }
}

pub(crate) async fn backup(steward: &Steward, file: &Path, out: Output) -> Result<(), Failure> {
    let bytes = steward.backup_to(file).await?;
    let report = json!({ "file": file.display().to_string(), "bytes": bytes });
    out.emit(&report, || format!("backed up to {} ({bytes} bytes)", file.display()))
}

pub(crate) async fn restore(global: &Global, file: &Path, out: Output) -> Result<(), Failure> {
    Steward::restore(&global.database_url, file).await?;
    // Opening migrates an older backup forward and proves the result opens.
    crate::database::open(global).await?;
    let report = json!({ "database_url": global.database_url, "restored_from": file.display().to_string() });
    out.emit(&report, || format!("restored {} from {}", global.database_url, file.display()))
}
