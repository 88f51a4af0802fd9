//! Streaming records through `Exchange.Ingest` with a bounded window: at
//! most [`WINDOW`] records sent and not yet answered, results handed back in
//! stream order together with what the caller attached to each record.
//!
//! Shared by `cosx submit` and `cosx import`, so both see the same results
//! for the same records. Memory is bounded by the window, not by the number
//! of records. This module decides nothing about records: it only carries
//! them and their answers.

use std::collections::VecDeque;

use cosx_proto::v1::{IngestRequest, IngestResult};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::Client;
use crate::error::ClientError;

/// Records sent and not yet answered, at most: as many as the coordinator
/// handles at once on one `Ingest` stream (its `INGEST_WINDOW`), so that its
/// group-commit batches are as large as they would be for any other client
/// (at 256 they were capped at 256 records, and the writer commits more
/// often for the same records).
pub(crate) const WINDOW: usize = 1024;

/// One entry of the input: a record to send, or something that is only to
/// be handed back in its place in the order (a row refused before sending).
// Boxing the request would cost an allocation per record for nothing: jobs
// live only in a bounded channel.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Job<T> {
    /// Send this record; `T` comes back with its result.
    Send(T, IngestRequest),
    /// Send nothing; `T` comes back, in order, with no result.
    Skip(T),
}

/// The stream failed part way.
#[derive(Debug)]
pub(crate) struct Broken<T> {
    /// Why.
    pub(crate) status: tonic::Status,
    /// Entries sent and not answered (they may or may not be stored) and
    /// entries after them, in order.
    pub(crate) unanswered: Vec<T>,
}

/// Runs `jobs` through `Ingest`, calling `on_result` for each entry in input
/// order. An error from `on_result` stops the stream and is returned.
pub(crate) async fn run<T>(
    client: &Client,
    mut jobs: mpsc::Receiver<Job<T>>,
    mut on_result: impl FnMut(T, Option<IngestResult>) -> Result<(), ClientError>,
) -> Result<Result<(), Broken<T>>, ClientError> {
    let (tx, rx) = mpsc::channel::<IngestRequest>(WINDOW);
    let mut requests = Some(tx);
    let mut exchange = client.exchange();
    let mut results = exchange.ingest(ReceiverStream::new(rx)).await?.into_inner();
    // (attached, sent) in input order; `sent` counts entries awaiting a result.
    let mut pending: VecDeque<(T, bool)> = VecDeque::new();
    let mut sent = 0usize;
    let mut reading = true;
    loop {
        while pending.front().is_some_and(|(_, was_sent)| !was_sent) {
            if let Some((t, _)) = pending.pop_front() {
                on_result(t, None)?;
            }
        }
        if !reading && pending.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            answer = results.message(), if sent > 0 => match answer {
                Ok(Some(result)) => {
                    let Some((t, _)) = pending.pop_front() else { break };
                    sent -= 1;
                    on_result(t, Some(result))?;
                }
                Ok(None) => {
                    let status = tonic::Status::unknown("the server ended the stream before answering every record");
                    return Ok(Err(broken(status, pending, jobs).await));
                }
                Err(status) => return Ok(Err(broken(status, pending, jobs).await)),
            },
            job = jobs.recv(), if reading && sent < WINDOW => match job {
                Some(Job::Send(t, request)) => {
                    let delivered = match &requests {
                        Some(tx) => tx.send(request).await.is_ok(),
                        None => false,
                    };
                    pending.push_back((t, true));
                    sent += 1;
                    if !delivered {
                        let status = tonic::Status::unavailable("the request stream closed");
                        return Ok(Err(broken(status, pending, jobs).await));
                    }
                }
                Some(Job::Skip(t)) => pending.push_back((t, false)),
                None => {
                    reading = false;
                    // Closing the request stream tells the server no more records come.
                    requests = None;
                }
            },
        }
    }
    drop(requests);
    Ok(Ok(()))
}

async fn broken<T>(status: tonic::Status, pending: VecDeque<(T, bool)>, mut jobs: mpsc::Receiver<Job<T>>) -> Broken<T> {
    let mut unanswered: Vec<T> = pending.into_iter().map(|(t, _)| t).collect();
    jobs.close();
    while let Some(job) = jobs.recv().await {
        match job {
            Job::Send(t, _) | Job::Skip(t) => unanswered.push(t),
        }
    }
    Broken { status, unanswered }
}
