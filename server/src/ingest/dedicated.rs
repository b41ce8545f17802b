//! A task on its own thread with its own single-threaded runtime.
//!
//! The drainer's work is CPU-heavy in bursts: parsing a chunk of the spool,
//! serializing thousands of rows for an insert. On the server's shared runtime a
//! burst occupies an async worker for tens of milliseconds, and every
//! acknowledgement queued behind it waits. On its own thread the operating
//! system's scheduler shares the cores between it and the request workers
//! instead, in slices of a few milliseconds.

use std::future::Future;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Runs `task` on a new thread named `name`. The handle works from any runtime:
/// awaiting it waits for the task, aborting it cancels the task and ends the
/// thread.
pub fn spawn<F>(name: &str, task: F) -> std::io::Result<JoinHandle<()>>
where
    F: Future<Output = ()> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (ended_tx, ended) = oneshot::channel::<()>();
    // The sender is dropped when the task ends or is cancelled: either way the
    // thread's wait below finishes and the runtime shuts down.
    let handle = runtime.spawn(async move {
        task.await;
        drop(ended_tx);
    });
    std::thread::Builder::new().name(name.to_string()).spawn(move || {
        runtime.block_on(async {
            let _ = ended.await;
        });
    })?;
    Ok(handle)
}
