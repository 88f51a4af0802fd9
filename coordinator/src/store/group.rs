//! Group commit: many concurrent [`Store::commit`](super::Store::commit)
//! calls, one durable transaction.
//!
//! Callers put their [`Commit`] in a queue and wait. One writer task per
//! store takes everything queued (up to a bound), hands it to the backend's
//! [`BatchWriter`] to apply in order inside ONE transaction, and only after
//! that transaction has committed (one fsync with `synchronous=FULL`, one
//! WAL flush on PostgreSQL) tells each caller its own outcome. So an
//! acknowledged change is as durable as before; what is shared is the cost
//! of the flush. While one batch is being flushed the next one queues, so
//! batches grow with load and a lone commit still goes at once.
//!
//! Must never: answer a caller before the transaction holding its change has
//! committed, or let one commit's refusal undo another's change.

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use super::{Commit, Committed, StoreError};

/// Most commits in one transaction: bounds a batch's latency and memory.
/// At the ~10k commits/s measured, 512 is ~50 ms of work, where one fsync
/// is ~1 ms: past this size batching gains nothing.
pub(crate) const MAX_BATCH: usize = 512;

/// Commits waiting for the writer. The bound only applies backpressure.
const QUEUE: usize = 4 * MAX_BATCH;

/// One commit's outcome.
pub(crate) type Outcome = Result<Committed, StoreError>;

/// A backend's way to apply several commits in one transaction.
#[async_trait]
pub(crate) trait BatchWriter: Send + 'static {
    /// Applies `batch` in order, as if one after the other, in one
    /// transaction, and returns one outcome per commit (same order) once
    /// that transaction has committed. A refused commit (conflict,
    /// idempotency mismatch, constraint) leaves nothing behind and does not
    /// affect the others; if the transaction itself fails, every commit in
    /// it that would have succeeded gets an error.
    async fn write(&mut self, batch: &[Commit]) -> Vec<Outcome>;
}

struct Pending {
    commit: Commit,
    reply: oneshot::Sender<Outcome>,
}

/// The queue in front of one writer task.
pub(crate) struct GroupCommit {
    queue: mpsc::Sender<Pending>,
}

impl GroupCommit {
    /// Starts the writer task (on the current tokio runtime). It ends when
    /// the `GroupCommit` is dropped and the queue has drained.
    pub(crate) fn spawn(mut writer: impl BatchWriter) -> Self {
        let (queue, mut rx) = mpsc::channel::<Pending>(QUEUE);
        tokio::spawn(async move {
            let mut taken = Vec::with_capacity(MAX_BATCH);
            while rx.recv_many(&mut taken, MAX_BATCH).await > 0 {
                let (commits, replies): (Vec<Commit>, Vec<_>) =
                    taken.drain(..).map(|p: Pending| (p.commit, p.reply)).unzip();
                cosx_edge::metrics::writer_queue(-(commits.len() as i64));
                let outcomes = writer.write(&commits).await;
                cosx_edge::metrics::batch_committed(commits.len());
                debug_assert_eq!(outcomes.len(), replies.len());
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    // A caller that went away still had its change applied,
                    // as a request whose response was lost: its retry with
                    // the same request id is answered by replay.
                    let _ = reply.send(outcome);
                }
            }
        });
        GroupCommit { queue }
    }

    /// Queues `commit` and waits until its transaction has committed.
    pub(crate) async fn commit(&self, commit: Commit) -> Outcome {
        let (reply, answer) = oneshot::channel();
        cosx_edge::metrics::writer_queue(1);
        if self.queue.send(Pending { commit, reply }).await.is_err() {
            cosx_edge::metrics::writer_queue(-1);
            return Err(StoreError::Unavailable("the store's writer has stopped".into()));
        }
        answer.await.map_err(|_| StoreError::Unavailable("the store's writer stopped before answering".into()))?
    }
}

/// The outcomes of a batch whose transaction failed as a whole: every
/// commit in it gets the failure, refusals included (a refusal may have been
/// decided against a change of this very batch that is now undone), so each
/// caller retries and is decided again.
pub(crate) fn batch_failed(n: usize, failure: &str) -> Vec<Outcome> {
    (0..n).map(|_| Err(StoreError::Unavailable(failure.to_owned()))).collect()
}
