//! The tracker's main-thread cost and bytes on the wire, in real headless Chromium
//! against the real server: 10,000 synthetic mouse moves and 1,000 clicks on
//! `www/test/bench.html`, first with the tracker waiting for consent (baseline),
//! then recording. Ignored in the test run (it measures, it does not judge); run it
//! with `cargo xtask bench-tracker`.

use std::time::Duration;

use lummmen_e2e::tracker::TrackerRig;

#[tokio::test]
#[ignore = "benchmark: run with `cargo xtask bench-tracker`"]
async fn tracker_main_thread_cost_and_wire_bytes() -> anyhow::Result<()> {
    let rig = TrackerRig::start("e2e-tracker-bench").await?;
    rig.open("/test/bench.html").await?;
    let result = rig.browser.wait_for("window.__bench", Duration::from_secs(180)).await?;
    assert!(result.get("error").is_none(), "{result}");
    let f = |k: &str| result[k].as_f64().unwrap_or(f64::NAN);
    let t = &result["tracked"];
    println!("{}", serde_json::to_string_pretty(&result)?);
    println!("| measure | value |");
    println!("| --- | --- |");
    println!("| mean time in our handlers per mouse move (10,000 moves) | {:.2} µs |", f("moveHandlerUs"));
    println!("| mean time in our handlers per click (1,000 clicks) | {:.2} µs |", f("clickHandlerUs"));
    println!("| longest input task while recording | {:.2} ms |", f("longestChunkMs"));
    println!("| long tasks (>= 50 ms) seen | {} |", result["longTasksMs"]);
    println!("| bytes on the wire per click | {:.1} B |", f("bytesPerClick"));
    println!("| bytes on the wire per raw move (amortized) | {:.2} B |", f("bytesPerMove"));
    println!("| bytes on the wire per kept move point | {:.1} B |", f("bytesPerMovePoint"));
    println!(
        "| requests / events / points / dropped (moves, clicks) | {} / {} / {} / {}, {} / {} / {} / {} |",
        t["moves"]["wire"]["requests"],
        t["moves"]["wire"]["events"],
        t["moves"]["wire"]["points"],
        t["moves"]["wire"]["dropped"],
        t["clicks"]["wire"]["requests"],
        t["clicks"]["wire"]["events"],
        t["clicks"]["wire"]["points"],
        t["clicks"]["wire"]["dropped"],
    );
    assert_eq!(result["baseline"]["requests"], serde_json::json!(0), "requests before consent");
    rig.close().await
}
