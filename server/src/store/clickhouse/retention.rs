//! Retention in ClickHouse: months (partitions, shared by every site) older
//! than the longest retention go whole with `DROP PARTITION`, which removes
//! their parts at once; a site that keeps less has its older rows deleted
//! (`ALTER TABLE ... DELETE`, waited for). 18.16 has no TTL. Both act on
//! every node's own tables: a cluster's `Distributed` tables take neither
//! (see [`super::cluster`]).

use ::clickhouse::Client;

use super::cluster::Layout;
use super::schema::TABLES;
use crate::retention::Plan;
use crate::store::StoreError;

/// The months (`YYYYMM`) that hold data in any of our tables on any node.
/// Only parts with rows: a delete that empties a month leaves an empty part,
/// which 18.16 keeps and a current ClickHouse removes some 30 s later, so
/// without `rows > 0` the answer would differ between them and with the time
/// since the delete.
async fn months(layout: &Layout, database: &str) -> Result<Vec<u32>, StoreError> {
    let tables: Vec<String> = TABLES.iter().map(|t| layout.local(t)).collect();
    let mut months = Vec::new();
    for node in layout.nodes() {
        let partitions: Vec<String> = node
            .client
            .query(
                "SELECT DISTINCT partition FROM system.parts
                 WHERE database = ? AND active AND rows > 0 AND has(?, table)",
            )
            .bind(database)
            .bind(tables.as_slice())
            .fetch_all()
            .await?;
        months.extend(partitions.iter().filter_map(|p| p.trim_matches('\'').parse::<u32>().ok()));
    }
    months.sort_unstable();
    months.dedup();
    Ok(months)
}

/// Drops every month before the plan's oldest kept one; answers the events
/// they held (counted through `client`, the store's own).
pub async fn drop_months(
    client: &Client,
    layout: &Layout,
    database: &str,
    plan: &Plan,
) -> Result<u64, StoreError> {
    let (Some(oldest), Some(cutoff)) = (plan.oldest_kept_month, plan.oldest_cutoff_ms) else { return Ok(0) };
    let expired: Vec<u32> = months(layout, database).await?.into_iter().filter(|m| *m < oldest).collect();
    if expired.is_empty() {
        return Ok(0);
    }
    let events: u64 = client
        .query("SELECT count() FROM events FINAL WHERE time < ?")
        .bind(u64::try_from(cutoff).unwrap_or(0))
        .fetch_one()
        .await?;
    for node in layout.nodes() {
        for month in &expired {
            for table in TABLES {
                let sql = format!("ALTER TABLE {} DROP PARTITION {month}", layout.local(table));
                node.client.query(&sql).execute().await?;
            }
        }
    }
    Ok(events)
}

/// The events of a site before its cutoff (and after what `drop_months`
/// dropped), and the filter that deletes them from every table.
pub async fn expired_of_site(client: &Client, site_id: u32, cutoff_ms: i64) -> Result<u64, StoreError> {
    Ok(client
        .query("SELECT count() FROM events FINAL WHERE site_id = ? AND time < ?")
        .bind(site_id)
        .bind(u64::try_from(cutoff_ms).unwrap_or(0))
        .fetch_one()
        .await?)
}

/// Starts the deletes of a site's rows before its cutoff in every table on
/// every node.
pub async fn delete_site_before(layout: &Layout, site_id: u32, cutoff_ms: i64) -> Result<(), StoreError> {
    for node in layout.nodes() {
        for table in TABLES {
            node.client
                .query(&format!("ALTER TABLE {} DELETE WHERE site_id = ? AND time < ?", layout.local(table)))
                .bind(site_id)
                .bind(u64::try_from(cutoff_ms).unwrap_or(0))
                .execute()
                .await?;
        }
    }
    Ok(())
}
