//! The bounded memory and concurrency of hashing: a line of callers, one permit and one
//! reusable buffer per slot, and the computation on the blocking pool.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use argon2::Block;

use super::{HashError, Inner, PasswordHasher};

impl PasswordHasher {
    /// Runs `work` on the blocking pool with `blocks` blocks of pooled memory, once a
    /// turn is free.
    pub(super) async fn compute<T, F>(&self, blocks: usize, work: F) -> Result<T, HashError>
    where
        T: Send + 'static,
        F: FnOnce(&mut [Block]) -> Result<T, HashError> + Send + 'static,
    {
        let in_line = InLine::join(Arc::clone(&self.inner)).ok_or(HashError::Busy)?;
        let permit = Arc::clone(&self.inner.permits).acquire_owned().await.map_err(|_| HashError::ShutDown)?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            // Held until the buffer is back in the pool, even when the caller stopped waiting.
            let _permit = permit;
            let mut buffer = inner.take_buffer();
            let result = inner.reserve(&mut buffer, blocks).and_then(|memory| inner.measured(|| work(memory)));
            // Whoever is next in line takes this memory as it is; with nobody waiting, it
            // goes back to the allocator.
            let keep = in_line.leave() > 0;
            inner.give_back(buffer, keep);
            result
        })
        .await
        .map_err(HashError::Aborted)?
    }
}

/// One caller's place in line for a computation; leaving (or being dropped while still
/// waiting for a turn) takes it out.
struct InLine {
    inner: Option<Arc<Inner>>,
}

impl InLine {
    /// Joins the line, unless it is full.
    fn join(inner: Arc<Inner>) -> Option<Self> {
        let full = inner.in_line.fetch_add(1, Ordering::SeqCst) >= inner.max_in_line;
        // Dropping `place` leaves the line again.
        let place = Self { inner: Some(inner) };
        (!full).then_some(place)
    }

    /// Leaves the line; returns how many callers are still in it.
    fn leave(mut self) -> usize {
        self.inner.take().map_or(0, |inner| inner.in_line.fetch_sub(1, Ordering::SeqCst) - 1)
    }
}

impl Drop for InLine {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            inner.in_line.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Inner {
    fn take_buffer(&self) -> Vec<Block> {
        // The permit guarantees a buffer; a lost one (a panic mid-hash) is replaced.
        self.pool.lock().unwrap_or_else(PoisonError::into_inner).pop().unwrap_or_default()
    }

    fn give_back(&self, mut buffer: Vec<Block>, keep: bool) {
        if !keep {
            buffer = Vec::new();
        }
        // A stored hash that asked for more than the current parameters only borrows the extra.
        let baseline = self.params.block_count();
        if buffer.len() > baseline {
            buffer.truncate(baseline);
            buffer.shrink_to_fit();
        }
        self.pool.lock().unwrap_or_else(PoisonError::into_inner).push(buffer);
    }

    /// The first `blocks` blocks of `buffer`, grown once to the current parameters' size
    /// (or more, for a costlier stored hash).
    fn reserve<'a>(&self, buffer: &'a mut Vec<Block>, blocks: usize) -> Result<&'a mut [Block], HashError> {
        let wanted = blocks.max(self.params.block_count());
        if buffer.len() < wanted {
            buffer.try_reserve_exact(wanted - buffer.len()).map_err(|_| HashError::OutOfMemory)?;
            #[cfg(test)]
            self.allocations.fetch_add(1, Ordering::SeqCst);
            buffer.resize(wanted, Block::new());
        }
        Ok(&mut buffer[..blocks])
    }

    fn measured<T>(&self, work: impl FnOnce() -> T) -> T {
        let running = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(running, Ordering::SeqCst);
        #[cfg(test)]
        if let Some(probe) = self.probe.lock().unwrap_or_else(PoisonError::into_inner).clone() {
            probe();
        }
        let result = work();
        self.running.fetch_sub(1, Ordering::SeqCst);
        self.computations.fetch_add(1, Ordering::Relaxed);
        result
    }
}
