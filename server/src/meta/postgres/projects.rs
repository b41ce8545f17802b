//! Projects, their shops and retention in PostgreSQL.

use tokio_postgres::GenericClient;

use super::PgMeta;
use crate::meta::{check_project, check_retention, MetaError};
use crate::projects::Project;

/// Every write of projects takes this first: one writer at a time, and always
/// both tables in the same order, so two writers never wait on each other.
const LOCK: &str = "LOCK TABLE projects, project_shops IN SHARE ROW EXCLUSIVE MODE";

/// A project's row and its shops.
async fn load(c: &impl GenericClient, id: i64) -> Result<Option<Project>, MetaError> {
    let Some(row) = c.query_opt("SELECT name, sample FROM projects WHERE id = $1", &[&id]).await? else {
        return Ok(None);
    };
    let shops = c
        .query("SELECT shop FROM project_shops WHERE project_id = $1 ORDER BY shop COLLATE \"C\"", &[&id])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let sample: i16 = row.get(1);
    Ok(Some(Project { id: id as u32, name: row.get(0), sample: sample as u8, shops }))
}

/// Writes a checked project inside a transaction.
async fn write(tx: &tokio_postgres::Transaction<'_>, p: &Project) -> Result<(), MetaError> {
    let id = i64::from(p.id);
    for shop in &p.shops {
        let owner = tx.query_opt("SELECT project_id FROM project_shops WHERE shop = $1", &[shop]).await?;
        if let Some(owner) = owner.map(|r| r.get::<_, i64>(0)).filter(|o| *o != id) {
            return Err(MetaError::ShopTaken { shop: shop.clone(), project: owner as u32 });
        }
    }
    tx.execute(
        "INSERT INTO projects (id, name, sample) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, sample = excluded.sample",
        &[&id, &p.name, &i16::from(p.sample)],
    )
    .await?;
    tx.execute("DELETE FROM project_shops WHERE project_id = $1", &[&id]).await?;
    for shop in &p.shops {
        tx.execute("INSERT INTO project_shops (shop, project_id) VALUES ($1, $2)", &[shop, &id]).await?;
    }
    Ok(())
}

impl PgMeta {
    pub(super) async fn project(&self, id: u32) -> Result<Option<Project>, MetaError> {
        load(&**self.pool.get().await?, i64::from(id)).await
    }

    pub(super) async fn project_of_shop(&self, shop: &str) -> Result<Option<Project>, MetaError> {
        let c = self.pool.get().await?;
        match c.query_opt("SELECT project_id FROM project_shops WHERE shop = $1", &[&shop]).await? {
            Some(row) => load(&**c, row.get(0)).await,
            None => Ok(None),
        }
    }

    pub(super) async fn projects(&self) -> Result<Vec<Project>, MetaError> {
        let c = self.pool.get().await?;
        let ids: Vec<i64> =
            c.query("SELECT id FROM projects ORDER BY id", &[]).await?.iter().map(|r| r.get(0)).collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(load(&**c, id).await?);
        }
        Ok(out)
    }

    pub(super) async fn upsert_project(&self, p: &Project) -> Result<(), MetaError> {
        check_project(p)?;
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        // Two instances writing the same shop at once: the second waits and
        // then sees the first's row, as SQLite's single writer gives.
        tx.batch_execute(LOCK).await?;
        write(&tx, p).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn create_project(
        &self,
        name: &str,
        sample: u8,
        shops: &[String],
    ) -> Result<Project, MetaError> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        // The next id is taken under the lock, so two instances never give one
        // id to two shops.
        tx.batch_execute(LOCK).await?;
        let next: i64 = tx.query_one("SELECT COALESCE(MAX(id), 0) + 1 FROM projects", &[]).await?.get(0);
        let id = u32::try_from(next).map_err(|_| MetaError::IdsExhausted)?;
        let p = Project { id, name: name.to_string(), sample, shops: shops.to_vec() };
        check_project(&p)?;
        write(&tx, &p).await?;
        tx.commit().await?;
        Ok(p)
    }

    pub(super) async fn delete_project(&self, id: u32) -> Result<bool, MetaError> {
        let c = self.pool.get().await?;
        // Shops and retention go with it (ON DELETE CASCADE).
        Ok(c.execute("DELETE FROM projects WHERE id = $1", &[&i64::from(id)]).await? > 0)
    }

    pub(super) async fn retentions(&self) -> Result<Vec<(u32, u16)>, MetaError> {
        let c = self.pool.get().await?;
        let rows = c
            .query(
                "SELECT p.id, COALESCE(r.months, $1) FROM projects p
                 LEFT JOIN project_retention r ON r.project_id = p.id ORDER BY p.id",
                &[&(crate::retention::DEFAULT_MONTHS as i16)],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get::<_, i64>(0) as u32, r.get::<_, i16>(1) as u16)).collect())
    }

    pub(super) async fn set_retention_months(&self, id: u32, months: u16) -> Result<(), MetaError> {
        check_retention(months)?;
        let c = self.pool.get().await?;
        let n = c
            .execute(
                "INSERT INTO project_retention (project_id, months)
                 SELECT id, $2 FROM projects WHERE id = $1
                 ON CONFLICT (project_id) DO UPDATE SET months = excluded.months",
                &[&i64::from(id), &(months as i16)],
            )
            .await?;
        if n == 0 {
            return Err(MetaError::NotFound(id));
        }
        Ok(())
    }
}
