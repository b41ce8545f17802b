//! Expiring offline tokens: got by token exchange from a merchant's session
//! token, kept sealed with their expiry, refreshed shortly before they expire.
//!
//! Shopify replaces the refresh token on every use, so a refresh token spent
//! twice fails the second time and leaves the shop without a token. Hence:
//! one refresh at a time per shop (single flight: every other caller for the
//! shop waits and then reads the pair the first one stored), and the new pair
//! is stored before the access token is used. The flight spans instances: each
//! instance queues its own callers per shop ([`Flights`]), and the one at the
//! front then waits for the store's lock of the shop
//! ([`MetaStore::refresh_flight`]: PostgreSQL's advisory lock when instances
//! share a database). A refresh Shopify refuses (the
//! app was uninstalled, the refresh token expired) clears the shop's tokens:
//! the next session token of the shop exchanges for new ones. Tokens never go
//! into logs or error messages.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::admin_api::{AdminError, TokenSet};
use super::crypto::{CryptoError, KeyRing};
use super::ShopifyState;
use crate::clock::now_ms_i64;
use crate::meta::{FlightGuard, MetaError, SealedSet, StoredTokens};

/// An access token expiring within this is refreshed before use.
pub const REFRESH_MARGIN_MS: i64 = 60_000;

/// Why no access token could be had.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// No install, uninstalled, or tokens Shopify no longer honours: a token
    /// exchange (the merchant opening the app) or a re-authorization is needed.
    #[error("no usable offline token for this shop")]
    NeedsExchange,
    #[error("no token key configured")]
    NoKey,
    /// Shopify could not be reached or answered an error other than a refusal.
    #[error("{0}")]
    Shopify(AdminError),
    #[error("app database: {0}")]
    Db(#[from] MetaError),
    #[error("token seal: {0}")]
    Crypto(#[from] CryptoError),
}

/// The per-shop locks of single-flight refreshes; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Flights(Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>);

impl Flights {
    fn of(&self, shop: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(map.entry(shop.to_string()).or_default())
    }
}

/// The shop's turn to touch its tokens: first among this instance's callers,
/// then across instances. Held until dropped.
#[derive(Debug)]
struct Turn {
    _store: FlightGuard,
    _local: tokio::sync::OwnedMutexGuard<()>,
}

type Stored = StoredTokens;

fn seal_set(keys: &KeyRing, shop: &str, set: &TokenSet) -> Result<SealedSet, TokenError> {
    let now = now_ms_i64();
    let at = |secs: Option<i64>| secs.map(|s| now.saturating_add(s.saturating_mul(1000)));
    Ok(SealedSet {
        access: keys.seal(shop, &set.access_token)?,
        refresh: set.refresh_token.as_deref().map(|t| keys.seal(shop, t)).transpose()?,
        access_expires_at: at(set.expires_in),
        refresh_expires_at: at(set.refresh_token_expires_in),
        scopes: set.scope.clone(),
        now,
    })
}

/// Runs `f` as a task of its own and waits for it: dropping the caller does not
/// stop it. A panic in `f` resumes in the caller; the task ends otherwise
/// only with the runtime, which drops the caller too.
async fn detached<T: Send + 'static>(f: impl std::future::Future<Output = T> + Send + 'static) -> T {
    match tokio::spawn(f).await {
        Ok(out) => out,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => std::future::pending().await,
    }
}

/// Whether a stored access token can be used as it is at `now`.
fn fresh(stored: &Stored, now: i64) -> bool {
    stored.access_expires_at.is_none_or(|at| at - REFRESH_MARGIN_MS > now)
}

impl ShopifyState {
    fn keys_or_err(&self) -> Result<Arc<KeyRing>, TokenError> {
        self.keys.clone().ok_or(TokenError::NoKey)
    }

    /// Waits for the shop's turn (see [`Turn`]).
    async fn turn(&self, shop: &str) -> Result<Turn, TokenError> {
        let local = self.flights.of(shop).lock_owned().await;
        let store = self.db.refresh_flight(shop).await?;
        Ok(Turn { _store: store, _local: local })
    }

    /// Whether the shop has an offline token that is usable or can be refreshed.
    pub async fn has_token(&self, shop: &str) -> Result<bool, TokenError> {
        let now = now_ms_i64();
        Ok(self.db.tokens(shop).await?.is_some_and(|s| {
            fresh(&s, now) || (s.refresh.is_some() && s.refresh_expires_at.is_none_or(|at| at > now))
        }))
    }

    /// Exchanges a verified session token of `shop` for an expiring offline
    /// token and stores it.
    pub async fn exchange_session_token(&self, shop: &str, session_token: &str) -> Result<(), TokenError> {
        let _turn = self.turn(shop).await?;
        self.exchange_in_turn(shop, session_token).await
    }

    /// The exchange itself, by a caller holding the shop's turn.
    async fn exchange_in_turn(&self, shop: &str, session_token: &str) -> Result<(), TokenError> {
        let keys = self.keys_or_err()?;
        let set = match self.admin.exchange_session_token(shop, session_token).await {
            Ok(set) => set,
            Err(AdminError::Unauthorized) => return Err(TokenError::NeedsExchange),
            Err(e) => return Err(TokenError::Shopify(e)),
        };
        self.db.save_exchanged(shop, &seal_set(&keys, shop, &set)?).await?;
        tracing::info!(%shop, "offline token received by token exchange");
        Ok(())
    }

    /// Starts a token exchange in the background when the shop has no usable
    /// offline token, so a page load or `/api/config` never waits on Shopify.
    pub async fn exchange_if_missing(&self, shop: &str, session_token: &str) {
        if self.keys.is_none() || self.has_token(shop).await.unwrap_or(true) {
            return;
        }
        let (state, shop, session) = (self.clone(), shop.to_string(), session_token.to_string());
        tokio::spawn(async move {
            // Several page loads at once, on this instance or on others: the
            // first exchanges, the others find its token once they get the
            // shop's turn.
            let exchanged = async {
                let _turn = state.turn(&shop).await?;
                if state.has_token(&shop).await? {
                    return Ok(());
                }
                state.exchange_in_turn(&shop, &session).await
            };
            if let Err(e) = exchanged.await {
                tracing::warn!(%shop, error = %e, "token exchange failed");
            }
        });
    }

    /// The shop's offline access token, refreshed first when it expires within
    /// [`REFRESH_MARGIN_MS`].
    pub async fn offline_token(&self, shop: &str) -> Result<String, TokenError> {
        let keys = self.keys_or_err()?;
        // The common case, a token still fresh, takes no turn: the turn is for
        // the refresh, and across instances it costs a connection of its own.
        let unlocked = self.db.tokens(shop).await?.ok_or(TokenError::NeedsExchange)?;
        if fresh(&unlocked, now_ms_i64()) {
            if let Ok(token) = keys.open(shop, &unlocked.access) {
                return Ok(token);
            }
        }
        // The rest runs as a task of its own, holding the turn: once Shopify
        // has answered a refresh, the refresh token is spent, and the new pair
        // must be stored (and the turn held until then) even if this caller
        // goes away meanwhile.
        let (state, owned) = (self.clone(), shop.to_string());
        detached(async move { state.refresh_in_turn(&owned, keys).await }).await
    }

    /// [`Self::offline_token`]'s refresh: in the shop's turn, the tokens read
    /// again (another caller may have refreshed them), refreshed if still due.
    async fn refresh_in_turn(&self, shop: &str, keys: Arc<KeyRing>) -> Result<String, TokenError> {
        let _turn = self.turn(shop).await?;
        let stored = self.db.tokens(shop).await?.ok_or(TokenError::NeedsExchange)?;
        let now = now_ms_i64();
        // A token no configured key opens (its key was retired) is as good as
        // refused: forgotten, so the next session token exchanges a new one.
        if fresh(&stored, now) {
            return match keys.open(shop, &stored.access) {
                Ok(token) => Ok(token),
                Err(_) => Err(self.forget(shop).await),
            };
        }
        let refresh = match (&stored.refresh, stored.refresh_expires_at) {
            (Some(sealed), expires) if expires.is_none_or(|at| at > now) => match keys.open(shop, sealed) {
                Ok(token) => token,
                Err(_) => return Err(self.forget(shop).await),
            },
            _ => return Err(self.forget(shop).await),
        };
        match self.admin.refresh_token(shop, &refresh).await {
            Ok(set) => {
                let access = set.access_token.clone();
                // Stored before it is used: the refresh token just spent is gone.
                // Only onto a row still installed: an uninstall or a redact
                // meanwhile must not be undone.
                self.db.save_refreshed(shop, &seal_set(&keys, shop, &set)?).await?;
                tracing::info!(%shop, "offline token refreshed");
                Ok(access)
            }
            Err(AdminError::Unauthorized) => Err(self.forget(shop).await),
            Err(e) => Err(TokenError::Shopify(e)),
        }
    }

    /// Forgets the shop's tokens after Shopify refused `refused`, one that had
    /// not expired (revoked). Only if it is still the stored one: a pair
    /// another request stored meanwhile is left alone.
    pub async fn forget_tokens(&self, shop: &str, refused: &str) -> Result<(), TokenError> {
        let keys = self.keys_or_err()?;
        let _turn = self.turn(shop).await?;
        let stored = self.db.tokens(shop).await?;
        let current = stored.and_then(|s| keys.open(shop, &s.access).ok());
        if current.as_deref().is_some_and(|t| t != refused) {
            return Ok(());
        }
        match self.forget(shop).await {
            TokenError::NeedsExchange => Ok(()),
            other => Err(other),
        }
    }

    /// Clears the shop's tokens; answers the error to give the caller.
    async fn forget(&self, shop: &str) -> TokenError {
        tracing::warn!(%shop, "offline token refused or expired beyond refresh; a new exchange is needed");
        match self.db.clear_tokens(shop).await {
            Ok(()) => TokenError::NeedsExchange,
            Err(e) => TokenError::Db(e),
        }
    }
}
