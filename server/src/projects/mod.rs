//! Projects: one per merchant site, keyed by its Matomo site id, with the shops
//! (myshopify domains) that belong to it. Persisted in `<data_dir>/lummmen.db`.
//!
//! Request handlers read them through [`ProjectCache`] (async; the ingest path's
//! lookups by site id cached briefly); the Shopify backend finds projects by shop
//! domain; the operator CLI (`lummmen-server projects ...`) creates and edits them
//! through [`ProjectStore`].

pub mod cache;

use std::path::{Path, PathBuf};

use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};

pub use cache::ProjectCache;

/// File name of the embedded database under the data directory.
pub const DB_FILE: &str = "lummmen.db";

/// The demo project that `--seed-demo` creates: the demo storefront posts with
/// site id 1.
pub fn demo_project() -> Project {
    Project { id: 1, name: "Demo shop".into(), sample: 100, shops: vec!["demo-shop.myshopify.com".into()] }
}

/// A tracked site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// The Matomo site id (`matomoId`), also the `s` of every batch.
    pub id: u32,
    pub name: String,
    /// Percentage of visitors tracked (0 to 100).
    pub sample: u8,
    /// The shop's myshopify domains, e.g. `demo-shop.myshopify.com`; storefronts
    /// at `https://{shop}` may post batches cross-origin.
    pub shops: Vec<String>,
}

/// Why a project operation failed: the metadata store's error.
pub use crate::meta::MetaError as ProjectError;

/// Handle on the projects table; cheap to clone, safe to share across tasks.
#[derive(Debug, Clone)]
pub struct ProjectStore {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl ProjectStore {
    /// Opens (creating if needed) `<data_dir>/lummmen.db` in WAL mode.
    pub fn open(data_dir: &Path) -> Result<Self, ProjectError> {
        std::fs::create_dir_all(data_dir).map_err(|e| ProjectError::Dir(data_dir.to_path_buf(), e))?;
        let path = data_dir.join(DB_FILE);
        // The CLI, the ingest path and the Shopify backend share the file.
        let mut conn = crate::sqlite::open(data_dir, DB_FILE, crate::sqlite::Tuning::default())?;
        crate::meta::sqlite::migrate(&mut conn, crate::meta::migrations::SQLITE_PROJECTS, |_, _| Ok(()))?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)), path })
    }

    /// Path of the database file, for components that keep their own tables in it.
    pub fn db_path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (every
        // write is one transaction), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Creates the project or replaces its name, sample and shop list.
    pub fn upsert(&self, project: &Project) -> Result<(), ProjectError> {
        crate::meta::check_project(project)?;
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        write(&tx, project)?;
        tx.commit()?;
        Ok(())
    }

    /// Creates a project with the next free id (one more than the largest).
    /// The id is taken and the project written in one write transaction, so two
    /// shops onboarding at once (or the operator's CLI meanwhile) never get
    /// one id.
    pub fn create(&self, name: &str, sample: u8, shops: Vec<String>) -> Result<Project, ProjectError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let next: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM projects", [], |r| r.get(0))?;
        let id = u32::try_from(next).map_err(|_| ProjectError::IdsExhausted)?;
        let project = Project { id, name: name.to_string(), sample, shops };
        crate::meta::check_project(&project)?;
        write(&tx, &project)?;
        tx.commit()?;
        Ok(project)
    }

    /// Creates the project only when no project has its id; answers whether it did.
    pub fn ensure(&self, project: &Project) -> Result<bool, ProjectError> {
        if self.get(project.id)?.is_some() {
            return Ok(false);
        }
        self.upsert(project)?;
        Ok(true)
    }

    /// The project with this site id.
    pub fn get(&self, id: u32) -> Result<Option<Project>, ProjectError> {
        let conn = self.lock();
        let row = conn
            .query_row("SELECT name, sample FROM projects WHERE id = ?1", [id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, u8>(1)?))
            })
            .optional()?;
        let Some((name, sample)) = row else { return Ok(None) };
        let shops = shops_of(&conn, id)?;
        Ok(Some(Project { id, name, sample, shops }))
    }

    /// Every project, by id.
    pub fn list(&self) -> Result<Vec<Project>, ProjectError> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT id, name, sample FROM projects ORDER BY id")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?, r.get::<_, u8>(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(id, name, sample)| Ok(Project { id, name, sample, shops: shops_of(&conn, id)? }))
            .collect()
    }

    /// The project a shop belongs to (`demo-shop.myshopify.com`).
    pub fn find_by_shop(&self, shop: &str) -> Result<Option<Project>, ProjectError> {
        let id: Option<u32> = self
            .lock()
            .query_row("SELECT project_id FROM project_shops WHERE shop = ?1", [shop], |r| r.get(0))
            .optional()?;
        match id {
            Some(id) => self.get(id),
            None => Ok(None),
        }
    }

    /// How many whole months before the current one the project's events are
    /// kept ([`crate::retention::DEFAULT_MONTHS`] unless set).
    pub fn retention_months(&self, id: u32) -> Result<u16, ProjectError> {
        let months: Option<u16> = self
            .lock()
            .query_row("SELECT months FROM project_retention WHERE project_id = ?1", [id], |r| r.get(0))
            .optional()?;
        Ok(months.unwrap_or(crate::retention::DEFAULT_MONTHS))
    }

    /// Sets how many months the project's events are kept (1 to 120).
    pub fn set_retention_months(&self, id: u32, months: u16) -> Result<(), ProjectError> {
        crate::meta::check_retention(months)?;
        if self.get(id)?.is_none() {
            return Err(ProjectError::NotFound(id));
        }
        self.lock().execute(
            "INSERT INTO project_retention (project_id, months) VALUES (?1, ?2)
             ON CONFLICT(project_id) DO UPDATE SET months = excluded.months",
            params![id, months],
        )?;
        Ok(())
    }

    /// Every project's site id with its retention in months.
    pub fn retentions(&self) -> Result<Vec<(u32, u16)>, ProjectError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT p.id, COALESCE(r.months, ?1) FROM projects p
             LEFT JOIN project_retention r ON r.project_id = p.id ORDER BY p.id",
        )?;
        let rows = stmt
            .query_map([crate::retention::DEFAULT_MONTHS], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Removes a project and its shops; answers whether it existed.
    pub fn delete(&self, id: u32) -> Result<bool, ProjectError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM project_shops WHERE project_id = ?1", [id])?;
        tx.execute("DELETE FROM project_retention WHERE project_id = ?1", [id])?;
        let n = tx.execute("DELETE FROM projects WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(n > 0)
    }
}

/// Writes a checked project in the caller's transaction: its row and its shop
/// list, refusing a shop of another project.
fn write(tx: &rusqlite::Transaction<'_>, project: &Project) -> Result<(), ProjectError> {
    for shop in &project.shops {
        let owner: Option<u32> = tx
            .query_row("SELECT project_id FROM project_shops WHERE shop = ?1", [shop], |r| r.get(0))
            .optional()?;
        if let Some(owner) = owner.filter(|o| *o != project.id) {
            return Err(ProjectError::ShopTaken { shop: shop.clone(), project: owner });
        }
    }
    tx.execute(
        "INSERT INTO projects (id, name, sample) VALUES (?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, sample = excluded.sample",
        params![project.id, project.name, project.sample],
    )?;
    tx.execute("DELETE FROM project_shops WHERE project_id = ?1", [project.id])?;
    for shop in &project.shops {
        tx.execute(
            "INSERT INTO project_shops (shop, project_id) VALUES (?1, ?2)",
            params![shop, project.id],
        )?;
    }
    Ok(())
}

fn shops_of(conn: &Connection, id: u32) -> Result<Vec<String>, rusqlite::Error> {
    let mut stmt =
        conn.prepare_cached("SELECT shop FROM project_shops WHERE project_id = ?1 ORDER BY shop")?;
    let shops = stmt.query_map([id], |r| r.get(0))?.collect();
    shops
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lummmen-projects-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn persists_projects_across_reopen_and_finds_them_by_shop() {
        let dir = temp_dir("persist");
        let store = ProjectStore::open(&dir).expect("open");
        let p =
            Project { id: 7, name: "Seven".into(), sample: 50, shops: vec!["seven.myshopify.com".into()] };
        store.upsert(&p).expect("upsert");
        let created = store.create("Next", 10, vec![]).expect("create");
        assert_eq!(created.id, 8);
        drop(store);
        let store = ProjectStore::open(&dir).expect("reopen");
        assert_eq!(store.get(7).expect("get"), Some(p.clone()));
        assert_eq!(store.find_by_shop("seven.myshopify.com").expect("find"), Some(p));
        assert_eq!(store.find_by_shop("other.myshopify.com").expect("find"), None);
        assert_eq!(store.list().expect("list").len(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn rejects_bad_sample_bad_domain_and_a_shop_owned_by_another_project() {
        let dir = temp_dir("reject");
        let store = ProjectStore::open(&dir).expect("open");
        let mut p = Project { id: 1, name: "A".into(), sample: 101, shops: vec![] };
        assert!(matches!(store.upsert(&p), Err(ProjectError::Sample(101))));
        p.sample = 100;
        p.shops = vec!["https://a.myshopify.com".into()];
        assert!(matches!(store.upsert(&p), Err(ProjectError::Shop(_))));
        p.shops = vec!["a.myshopify.com".into()];
        store.upsert(&p).expect("upsert");
        let q = Project { id: 2, name: "B".into(), sample: 1, shops: vec!["a.myshopify.com".into()] };
        assert!(matches!(store.upsert(&q), Err(ProjectError::ShopTaken { project: 1, .. })));
        assert!(!store.ensure(&demo_project()).expect("ensure existing"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
