//! Retention in ClickHouse: months (partitions, shared by every site) older
//! than the longest retention go whole with `DROP PARTITION`, which removes
//! their parts at once; a site that keeps less has its older rows deleted
//! (`ALTER TABLE ... DELETE`, waited for). 18.16 has no TTL.

use ::clickhouse::Client;

use super::schema::TABLES;
use crate::retention::Plan;
use crate::store::StoreError;

/// The months (`YYYYMM`) that hold data in any of our tables. Only parts with
/// rows: a delete that empties a month leaves an empty part, which 18.16 keeps
/// and a current ClickHouse removes some 30 s later, so without `rows > 0` the
/// answer would differ between them and with the time since the delete.
async fn months(client: &Client, database: &str) -> Result<Vec<u32>, StoreError> {
    let partitions: Vec<String> = client
        .query(
            "SELECT DISTINCT partition FROM system.parts
             WHERE database = ? AND active AND rows > 0 AND has(?, table)",
        )
        .bind(database)
        .bind(TABLES.as_slice())
        .fetch_all()
        .await?;
    Ok(partitions.iter().filter_map(|p| p.trim_matches('\'').parse().ok()).collect())
}

/// Drops every month before the plan's oldest kept one; answers the events
/// they held.
pub async fn drop_months(client: &Client, database: &str, plan: &Plan) -> Result<u64, StoreError> {
    let (Some(oldest), Some(cutoff)) = (plan.oldest_kept_month, plan.oldest_cutoff_ms) else { return Ok(0) };
    let expired: Vec<u32> = months(client, database).await?.into_iter().filter(|m| *m < oldest).collect();
    if expired.is_empty() {
        return Ok(0);
    }
    let events: u64 = client
        .query("SELECT count() FROM events FINAL WHERE time < ?")
        .bind(u64::try_from(cutoff).unwrap_or(0))
        .fetch_one()
        .await?;
    for month in expired {
        for table in TABLES {
            client.query(&format!("ALTER TABLE {table} DROP PARTITION {month}")).execute().await?;
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

/// Starts the deletes of a site's rows before its cutoff in every table.
pub async fn delete_site_before(client: &Client, site_id: u32, cutoff_ms: i64) -> Result<(), StoreError> {
    for table in TABLES {
        client
            .query(&format!("ALTER TABLE {table} DELETE WHERE site_id = ? AND time < ?"))
            .bind(site_id)
            .bind(u64::try_from(cutoff_ms).unwrap_or(0))
            .execute()
            .await?;
    }
    Ok(())
}
