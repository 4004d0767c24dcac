//! `client.conflicts()`: list, read, resolve and subscribe to the server's conflict log.

mod connect;
mod requests;
mod resolve;
mod subscribe;

use crate::{conflicts::segment, ConflictFilter};

use super::Client;

pub use requests::{GetConflict, ListConflicts};
pub use resolve::Resolve;
pub use subscribe::{Subscription, DEFAULT_MAX_EVENT_BYTES, DEFAULT_STALL_TIMEOUT};

/// The server's conflict log, seen through a client: [`Client::conflicts`].
///
/// Every refused conditional write (412, a version 409, 423, a refused transaction commit) is
/// recorded by a server of the reference shape; [`crate::Error::conflict_id`] names the record
/// of a refusal this client received. Someone (the client that caused it, or an admin) resolves
/// it later with [`Conflicts::resolve`], and subscribers ([`Conflicts::subscribe`]) are told
/// about both.
///
/// ```no_run
/// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
/// use ifmatch::{conflicts::Resolution, ConflictFilter, ConflictState};
///
/// let open = client
///     .conflicts()
///     .list(ConflictFilter::new().prefix("/items/").state(ConflictState::Open))
///     .await?;
/// for record in &open.conflicts {
///     client.conflicts().resolve(&record.id, Resolution::Theirs).await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Conflicts {
    client: Client,
}

impl Client {
    /// The server's conflict log: list, read, resolve and subscribe; see [`Conflicts`].
    pub fn conflicts(&self) -> Conflicts {
        Conflicts {
            client: self.clone(),
        }
    }
}

impl Conflicts {
    /// One page of records matching `filter`, oldest first (`.limit(n)`, `.after(seq)` for
    /// the next page, or `.all()` for every page).
    pub fn list(&self, filter: ConflictFilter) -> ListConflicts {
        ListConflicts::new(self.client.clone(), self.path(""), filter)
    }

    /// One record by id (404 once the server's bounded log forgot it).
    pub fn get(&self, id: &str) -> GetConflict {
        GetConflict::new(self.client.clone(), self.path(&format!("/{}", segment(id))))
    }

    /// Resolves conflict `id`; see [`Resolve`].
    pub fn resolve(&self, id: &str, resolution: crate::conflicts::Resolution) -> Resolve {
        Resolve::new(
            self.client.clone(),
            self.path(&format!("/{}/resolve", segment(id))),
            resolution,
        )
    }

    /// A live stream of the conflicts matching `filter` and their resolutions; see
    /// [`Subscription`].
    pub fn subscribe(&self, filter: ConflictFilter) -> Subscription {
        Subscription::new(self.client.clone(), self.path("/stream"), filter)
    }

    fn path(&self, tail: &str) -> String {
        format!(
            "{}{tail}",
            self.client.inner.conflicts_path.trim_end_matches('/')
        )
    }
}
