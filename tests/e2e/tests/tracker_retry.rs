//! A batch lost on the network is sent again, and stored once: a loopback proxy in
//! front of the real server drops the first connection the way a flaky network
//! does, then forwards everything.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use lummmen_e2e::tracker::{count_kind, TrackerRig};
use tokio::net::{TcpListener, TcpStream};

/// Forwards connections to `target`, except the first, which is closed unanswered.
async fn flaky_proxy(target: std::net::SocketAddr) -> anyhow::Result<(u16, Arc<AtomicUsize>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            if count.fetch_add(1, Ordering::SeqCst) == 0 {
                drop(inbound); // the network loses this one
                continue;
            }
            tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    Ok((port, seen))
}

#[tokio::test]
async fn a_batch_lost_on_the_network_is_sent_again_and_stored_once() -> anyhow::Result<()> {
    let rig = TrackerRig::start("e2e-tracker-retry").await?;
    let (port, seen) = flaky_proxy(rig.server.addr).await?;
    let path = format!("/test/tracker.html?standin=consent=granted&endpoint=http://127.0.0.1:{port}/collect");
    assert_eq!(rig.open(&path).await?, "tracking");
    let visitor = rig.visitor_id().await?;
    // The page view's request is the one lost; the next timer flush sends it again.
    let events = rig
        .wait_stored(1, &visitor, "the page view, on the second try", |e| count_kind(e, "pv") >= 1)
        .await?;
    assert!(seen.load(Ordering::SeqCst) >= 2, "the first connection was not the one dropped");
    assert_eq!(count_kind(&events, "pv"), 1, "stored once");
    let sent = rig.sent().await?;
    assert!(sent.len() >= 2 && sent[0] == sent[1], "the same body, batch id included, went out twice");
    rig.close().await
}
