//! A task on its own thread with its own single-threaded runtime.
//!
//! The drainer's work is CPU-heavy in bursts: parsing a chunk of the spool,
//! serializing thousands of rows for an insert. On the server's shared runtime a
//! burst occupies an async worker for tens of milliseconds, and every
//! acknowledgement queued behind it waits. On its own thread the operating
//! system's scheduler shares the cores between it and the request workers
//! instead, in slices of a few milliseconds; and the thread runs at a lower
//! priority (a higher nice value), so when the cores are busy, requests waiting
//! for their acknowledgement go first and storage catches up when they are done.
//! Nothing is lost by that: whatever waits is already durable in the spool.

use std::future::Future;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How much lower than the request workers the dedicated threads run (the nice
/// value added, out of 19).
const NICENESS: i32 = 10;

/// Runs `task` on a new thread named `name`, at a lower priority, as are the
/// threads its runtime starts for blocking work. The handle works from any
/// runtime: awaiting it waits for the task, aborting it cancels the task and
/// ends the thread.
pub fn spawn<F>(name: &str, task: F) -> std::io::Result<JoinHandle<()>>
where
    F: Future<Output = ()> + Send + 'static,
{
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().on_thread_start(lower_priority).build()?;
    let (ended_tx, ended) = oneshot::channel::<()>();
    // The sender is dropped when the task ends or is cancelled: either way the
    // thread's wait below finishes and the runtime shuts down.
    let handle = runtime.spawn(async move {
        task.await;
        drop(ended_tx);
    });
    std::thread::Builder::new().name(name.to_string()).spawn(move || {
        lower_priority();
        runtime.block_on(async {
            let _ = ended.await;
        });
    })?;
    Ok(handle)
}

/// Raises the calling thread's nice value by [`NICENESS`]. On Linux the nice
/// value belongs to the thread (`setpriority` with a thread id), not the
/// process. Best effort: where it cannot be changed, the thread runs at normal
/// priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let tid = rustix::thread::gettid();
        if let Ok(now) = getpriority_process(Some(tid)) {
            let _ = setpriority_process(Some(tid), (now + NICENESS).min(19));
        }
    }
}
