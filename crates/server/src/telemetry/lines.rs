//! Log lines on their way to stdout, written by a thread of their own.
//!
//! Each worker formats a line (tracing-subscriber does, in a buffer of its own) and
//! appends it here; the writer thread writes what has gathered, at most [`INTERVAL`]
//! later, with one system call. Writing each line from the worker cost a `write` and
//! the stdout lock on every request. Warnings and errors are written at once. No line
//! is dropped: a worker waits for room only when [`MAX_PENDING`] bytes are waiting,
//! that is when stdout does not keep up. [`LogLines::flush`] writes what is left before
//! the process exits.
//!
//! Kept over `tracing-appender`'s non-blocking writer, measured (`bench/run --baseline`,
//! same run, 2026-12-03): that writer wakes its thread for every line and writes each one
//! alone, so on PostgreSQL `get_task` served 19 % fewer requests at 33 % more server CPU
//! per request (118 against 89 µs), and its thread took 3.3 % of the samples against
//! 0.6 % here.

use std::io::{self, Write};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// The longest a line waits before it is written.
pub(crate) const INTERVAL: Duration = Duration::from_millis(20);
/// Written without waiting for [`INTERVAL`] past this many bytes: a few hundred lines,
/// so that the buffers stay small (at 100k requests/s, a `write` every 2 ms).
const HIGH: usize = 32 * 1024;
/// Workers wait past this many bytes.
const MAX_PENDING: usize = 1024 * 1024;

pub(crate) struct LogLines {
    /// [`INTERVAL`], but in tests.
    interval: Duration,
    state: Mutex<Pending>,
    /// Wakes the writer: lines after a pause, a warning, [`HIGH`] reached, a flush.
    wake: Condvar,
    /// Wakes workers waiting for room and flushes waiting for the writer.
    written: Condvar,
}

#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    /// The writer sleeps until a line comes.
    writer_idle: bool,
    /// Write now: a warning or an error, or a flush.
    urgent: bool,
    /// The writer is writing a batch.
    writing: bool,
}

impl LogLines {
    /// Starts the writer thread over `out`, writing lines at most `interval` after they
    /// come. The lines live as long as the process.
    pub(crate) fn start(out: impl Write + Send + 'static, interval: Duration) -> io::Result<&'static Self> {
        let lines: &'static Self = Box::leak(Box::new(Self {
            interval,
            state: Mutex::default(),
            wake: Condvar::new(),
            written: Condvar::new(),
        }));
        std::thread::Builder::new().name("log-writer".into()).spawn(move || lines.write_loop(out))?;
        Ok(lines)
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A panic elsewhere leaves whole lines behind: keep logging.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn append(&self, line: &[u8], urgent: bool) {
        let mut state = self.lock();
        while state.bytes.len() >= MAX_PENDING {
            state = self.written.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        let before = state.bytes.len();
        state.bytes.extend_from_slice(line);
        // One wake-up per reason: notifying costs a system call even when nobody waits.
        let mut wake = std::mem::take(&mut state.writer_idle);
        if urgent && !state.urgent {
            state.urgent = true;
            wake = true;
        }
        wake |= before < HIGH && state.bytes.len() >= HIGH;
        drop(state);
        if wake {
            self.wake.notify_one();
        }
    }

    /// Returns once every line appended so far is written.
    pub(crate) fn flush(&self) {
        let mut state = self.lock();
        state.urgent = true;
        self.wake.notify_one();
        while !state.bytes.is_empty() || state.writing {
            state = self.written.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn write_loop(&self, mut out: impl Write) {
        let mut batch = Vec::new();
        loop {
            let mut state = self.lock();
            while state.bytes.is_empty() {
                state.writer_idle = true;
                state = self.wake.wait(state).unwrap_or_else(PoisonError::into_inner);
            }
            state.writer_idle = false;
            // Let more lines gather, unless these must go out now.
            let deadline = Instant::now() + self.interval;
            while !state.urgent && state.bytes.len() < HIGH {
                let Some(left) = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) else {
                    break;
                };
                state = self.wake.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0;
            }
            state.urgent = false;
            std::mem::swap(&mut batch, &mut state.bytes);
            state.writing = true;
            drop(state);
            self.written.notify_all();
            // Where would a failure to write the log be reported? Nowhere: go on.
            let _ = out.write_all(&batch).and_then(|()| out.flush());
            batch.clear();
            self.lock().writing = false;
            self.written.notify_all();
        }
    }
}

/// What tracing-subscriber writes each formatted line to.
pub(crate) struct Line {
    lines: &'static LogLines,
    urgent: bool,
}

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lines.append(buf, self.urgent);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for &'static LogLines {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line { lines: self, urgent: false }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Line {
        Line { lines: self, urgent: *meta.level() <= Level::WARN }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// An output that tests can read.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn every_line_of_every_thread_comes_out_whole_and_in_order() {
        let out = Shared::default();
        let lines = LogLines::start(out.clone(), INTERVAL).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                std::thread::spawn(move || {
                    for n in 0..5_000 {
                        // Longer than HIGH now and then, so a worker also waits for room.
                        let padding = if n % 1_000 == 0 { "x".repeat(70_000) } else { String::new() };
                        let mut line = lines.make_writer();
                        line.write_all(format!("thread {t} line {n} {padding}\n").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        lines.flush();
        let text = out.text();
        let mut next = [0; 4];
        for line in text.lines() {
            let words: Vec<&str> = line.split(' ').collect();
            let (t, n): (usize, usize) = (words[1].parse().unwrap(), words[3].parse().unwrap());
            assert_eq!(n, next[t], "thread {t}: lines out of order or lost");
            next[t] += 1;
        }
        assert_eq!(next, [5_000; 4]);
    }

    #[test]
    fn a_warning_is_written_at_once_with_what_came_before_and_flush_writes_the_rest() {
        let out = Shared::default();
        // Lines would wait a minute: only the warning makes them go out.
        let lines = LogLines::start(out.clone(), Duration::from_secs(60)).unwrap();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(lines)
            .without_time()
            .with_target(false)
            .with_ansi(false)
            .with_level(true)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("before");
            tracing::warn!("warning");
            let deadline = Instant::now() + Duration::from_secs(10);
            while !out.text().contains("warning") {
                assert!(Instant::now() < deadline, "the warning waited");
                std::thread::sleep(Duration::from_millis(1));
            }
            assert_eq!(out.text(), " INFO before\n WARN warning\n");
            tracing::info!("after");
        });
        lines.flush();
        assert_eq!(out.text(), " INFO before\n WARN warning\n INFO after\n");
    }
}
