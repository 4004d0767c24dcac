//! The change of an update, synchronous ([`Client::update`]) or asynchronous
//! ([`Client::update_async`]), as one internal form over the JSON document.

use std::{future::Future, marker::PhantomData};

use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

use crate::{
    rt::{BoxFuture, MaybeSend},
    ChangeError, Error,
};

use super::{update::Update, Client};

/// The change over the JSON form (given the URL for its errors), so merging and re-applying
/// work on any `T`: it reads the document (decoding it as `T`) and returns the new one. A trait rather
/// than `dyn FnMut + Send`, so that it may be `!Send` on wasm32.
pub(super) trait ChangeFn: MaybeSend {
    fn call<'a>(&'a mut self, doc: &'a Value, url: &'a str) -> BoxFuture<'a, Result<Value, Error>>;
}

pub(super) type Change = Box<dyn ChangeFn>;

/// Applies the change to `state`, which stays as it was (the change decodes its own `T` from
/// it, so no copy of the JSON is made first).
pub(super) async fn apply(change: &mut Change, state: &Value, url: &str) -> Result<Value, Error> {
    change.call(state, url).await
}

/// A synchronous change of the JSON document.
pub(super) struct Sync<G>(G);

/// A synchronous change of the document as `T`, in place.
pub(super) fn in_place<T, F>(mut change: F) -> Change
where
    T: Serialize + DeserializeOwned,
    F: FnMut(&mut T) -> Result<(), ChangeError> + MaybeSend + 'static,
{
    Box::new(Sync(move |doc: &Value, url: &str| {
        let mut typed = decode::<T>(doc, url)?;
        change(&mut typed).map_err(|e| changed_error(url, e))?;
        encode(&typed)
    }))
}

impl<G> ChangeFn for Sync<G>
where
    G: FnMut(&Value, &str) -> Result<Value, Error> + MaybeSend,
{
    fn call<'a>(&'a mut self, doc: &'a Value, url: &'a str) -> BoxFuture<'a, Result<Value, Error>> {
        Box::pin(std::future::ready((self.0)(doc, url)))
    }
}

/// An asynchronous change: the document as `T` in, a future of the new document out.
pub(super) struct Async<T, F> {
    change: F,
    decoded: PhantomData<fn() -> T>,
}

impl<T, F, Fut> ChangeFn for Async<T, F>
where
    T: Serialize + DeserializeOwned + MaybeSend + 'static,
    F: FnMut(T) -> Fut + MaybeSend,
    Fut: Future<Output = Result<T, ChangeError>> + MaybeSend + 'static,
{
    fn call<'a>(&'a mut self, doc: &'a Value, url: &'a str) -> BoxFuture<'a, Result<Value, Error>> {
        let started = decode::<T>(doc, url).map(&mut self.change);
        Box::pin(async move {
            let changed = started?.await.map_err(|e| changed_error(url, e))?;
            encode(&changed)
        })
    }
}

fn decode<T: DeserializeOwned>(doc: &Value, url: &str) -> Result<T, Error> {
    T::deserialize(doc).map_err(|source| Error::Decode {
        url: url.to_owned(),
        source,
    })
}

fn encode<T: Serialize>(doc: &T) -> Result<Value, Error> {
    serde_json::to_value(doc).map_err(|source| Error::Encode { source })
}

fn changed_error(url: &str, e: ChangeError) -> Error {
    Error::Change {
        url: url.to_owned(),
        source: e.into_inner(),
    }
}

impl Client {
    /// [`Client::update`] with an asynchronous change: it takes the document as `T` and returns
    /// (a future of) the new one, so it may await what it needs (another service, a file)
    /// between the read and the write. Everything else is as for [`Update`]: the change may run
    /// several times, once per version it is applied to, and updates of one resource through
    /// one client take turns, so the change must not await another update of the same
    /// resource through this client (it would wait for itself until the deadline).
    ///
    /// ```no_run
    /// # async fn demo(client: ifmatch::Client) -> Result<(), ifmatch::Error> {
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Item { title: String }
    ///
    /// async fn translated(title: &str) -> Result<String, ifmatch::ChangeError> {
    ///     Ok(title.to_uppercase()) // e.g. a call to a translation service
    /// }
    ///
    /// let out = client
    ///     .update_async("/items/1", |mut item: Item| async move {
    ///         item.title = translated(&item.title).await?;
    ///         Ok(item)
    ///     })
    ///     .await?;
    /// println!("{} after {} write(s)", out.value.title, out.attempts);
    /// # Ok(()) }
    /// ```
    pub fn update_async<T, F, Fut>(&self, path: &str, change: F) -> Update<T>
    where
        T: Serialize + DeserializeOwned + MaybeSend + 'static,
        F: FnMut(T) -> Fut + MaybeSend + 'static,
        Fut: Future<Output = Result<T, ChangeError>> + MaybeSend + 'static,
    {
        Update::with_change(
            self.clone(),
            path,
            Box::new(Async {
                change,
                decoded: PhantomData,
            }),
        )
    }
}
