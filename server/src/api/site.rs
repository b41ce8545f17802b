//! Which project a caller of the admin API may read.

use crate::projects::Project;
use crate::shopify::auth::Principal;
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
