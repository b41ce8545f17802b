//! Privacy deletions shared by the instances, in PostgreSQL (see
//! [`crate::deletions`]).

use super::PgMeta;
use crate::clock::now_ms_i64;
use crate::meta::{Deletion, MetaError};

/// How long a published deletion is kept (its visitor ids with it): an
/// instance down longer than this has long drained its spool elsewhere or
/// comes back to an empty one. Instances not heard of for as long go too.
const KEEP_MS: i64 = 7 * 24 * 3600 * 1000;

impl PgMeta {
    pub(super) async fn publish_deletion(
        &self,
        sites: &[u32],
        visitors: Option<&[String]>,
    ) -> Result<Option<i64>, MetaError> {
        let now = now_ms_i64();
        let sites = serde_json::to_string(sites).unwrap_or_default();
        let visitors = visitors.map(|v| serde_json::to_string(v).unwrap_or_default());
        let c = self.pool.get().await?;
        c.execute("DELETE FROM deletions WHERE created_at < $1", &[&(now - KEEP_MS)]).await?;
        c.execute("DELETE FROM instances WHERE beat_at < $1", &[&(now - KEEP_MS)]).await?;
        let row = c
            .query_one(
                "INSERT INTO deletions (sites, visitors, created_at) VALUES ($1, $2, $3) RETURNING id",
                &[&sites, &visitors, &now],
            )
            .await?;
        Ok(Some(row.get(0)))
    }

    pub(super) async fn deletions_after(&self, seen: i64) -> Result<Vec<Deletion>, MetaError> {
        let c = self.pool.get().await?;
        let rows = c
            .query("SELECT id, sites, visitors FROM deletions WHERE id > $1 ORDER BY id LIMIT 100", &[&seen])
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let sites: String = r.get(1);
                let visitors: Option<String> = r.get(2);
                Deletion {
                    id: r.get(0),
                    sites: serde_json::from_str(&sites).unwrap_or_default(),
                    visitors: visitors.map(|v| serde_json::from_str(&v).unwrap_or_default()),
                }
            })
            .collect())
    }

    pub(super) async fn join_instance(&self, instance: &str) -> Result<i64, MetaError> {
        let c = self.pool.get().await?;
        let row = c
            .query_one(
                "INSERT INTO instances (id, seen, beat_at)
                 VALUES ($1, (SELECT COALESCE(MAX(id), 0) FROM deletions), $2)
                 ON CONFLICT (id) DO UPDATE SET beat_at = excluded.beat_at RETURNING seen",
                &[&instance, &now_ms_i64()],
            )
            .await?;
        Ok(row.get(0))
    }

    pub(super) async fn instance_beat(&self, instance: &str, seen: i64) -> Result<(), MetaError> {
        let c = self.pool.get().await?;
        c.execute(
            "INSERT INTO instances (id, seen, beat_at) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET seen = GREATEST(instances.seen, excluded.seen), beat_at = excluded.beat_at",
            &[&instance, &seen, &now_ms_i64()],
        )
        .await?;
        Ok(())
    }

    pub(super) async fn lagging(&self, id: i64, live_ms: i64) -> Result<Vec<String>, MetaError> {
        let c = self.pool.get().await?;
        let rows = c
            .query(
                "SELECT id FROM instances WHERE seen < $1 AND beat_at >= $2 ORDER BY id",
                &[&id, &(now_ms_i64() - live_ms)],
            )
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}
