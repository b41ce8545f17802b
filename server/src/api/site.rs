//! Which project a caller of the admin API may read.

use crate::projects::{Project, ProjectError};
use crate::shopify::auth::{HeatmapReader, Principal};
use crate::shopify::errors::ApiError;
use crate::shopify::ShopifyState;

/// The project of the token's shop; an unknown shop is the same 401 as a bad
/// token, so the API does not reveal which shops we serve.
pub async fn project_of_shop(state: &ShopifyState, shop: &str) -> Result<Project, ApiError> {
    match state.projects.find_by_shop(shop).await {
        Ok(Some(project)) => Ok(project),
        Ok(None) => {
            tracing::debug!(%shop, "session token for a shop without a project");
            Err(ApiError::Unauthorized)
        }
        Err(e) => Err(ApiError::Internal(e.to_string())),
    }
}

/// The project of the token's shop, created on the shop's first valid session
/// token unless `--no-auto-projects`: the next free site id, the shop's name
/// (its myshopify name, until the merchant renames it), every visitor tracked.
pub async fn project_or_onboard(state: &ShopifyState, shop: &str) -> Result<Project, ApiError> {
    match project_of_shop(state, shop).await {
        Err(ApiError::Unauthorized) if state.settings.auto_projects => {}
        other => return other,
    }
    let name = shop.trim_end_matches(".myshopify.com");
    match state.projects.store().create_project(name, 100, &[shop.to_string()]).await {
        Ok(project) => {
            tracing::info!(%shop, site_id = project.id, "created the shop's project on its first session");
            Ok(project)
        }
        // Another request of the same shop created it a moment ago.
        Err(ProjectError::ShopTaken { .. }) => project_of_shop(state, shop).await,
        Err(e) => Err(ApiError::Internal(e.to_string())),
    }
}

/// The site the caller may read: its shop's project, or for operators the
/// `site` they name. A merchant naming another site gets the same 404 as an
/// unknown one.
pub async fn site_of(state: &ShopifyState, who: &Principal, site: Option<u32>) -> Result<u32, ApiError> {
    match who {
        Principal::Operator => {
            site.ok_or_else(|| ApiError::BadRequest("operators must name a `site`".into()))
        }
        Principal::Shop(claims) => {
            let project = project_of_shop(state, &claims.shop).await?;
            match site {
                Some(s) if s != project.id => Err(ApiError::NotFound(format!("no site {s}"))),
                _ => Ok(project.id),
            }
        }
    }
}

/// The site a heatmap reader may read: as [`site_of`] for the admin API's
/// callers; for an overlay token its own site, while its shop still belongs
/// to it (a shop moved to another project, or removed, ends its tokens). A
/// token naming another site gets the merchant's 404.
pub async fn heatmap_site(
    state: &ShopifyState,
    who: &HeatmapReader,
    site: Option<u32>,
) -> Result<u32, ApiError> {
    match who {
        HeatmapReader::Admin(who) => site_of(state, who, site).await,
        HeatmapReader::Overlay(grant) => {
            let own = grant.site(site).map_err(|other| ApiError::NotFound(format!("no site {}", other.0)))?;
            if project_of_shop(state, &grant.shop).await?.id != own {
                tracing::debug!(shop = %grant.shop, site = own, "overlay token of a shop no longer in its site");
                return Err(ApiError::Unauthorized);
            }
            Ok(own)
        }
    }
}
