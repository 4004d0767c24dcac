//! One listening connection per replica: `LISTEN` on the channel of every part that asked
//! (the shared locks, the shared conflict log), and each batch of notifications handed to the
//! handlers of its channel. Every handler is also called at least every [`TICK`] with what its
//! channel heard since (often nothing), so a part that must catch up by polling needs no thread
//! of its own, and a lost notification or a lost connection delays an event, never loses it.
//!
//! The thread ends when every [`Listener`] handle is gone. A handler says whether it is still
//! wanted (its owner may be gone: then it is dropped).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, Config, NoTls};

use crate::storage::StoreError;

/// The longest a handler waits between calls.
pub(crate) const TICK: Duration = Duration::from_secs(1);

/// How often the thread looks for channels subscribed since it last did (a part that starts
/// after the listener is `LISTEN`ed to within this).
const SLICE: Duration = Duration::from_millis(50);

/// Called with the payloads its channel heard since the last call (in arrival order; empty when
/// nothing came); returns whether it is still wanted.
pub(crate) type Handler = Box<dyn FnMut(&[String]) -> bool + Send>;

/// A handle on the replica's listening connection (clones share it).
#[derive(Clone)]
pub(crate) struct Listener {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    handlers: Mutex<Vec<(&'static str, Handler)>>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener").finish_non_exhaustive()
    }
}

impl Listener {
    /// Starts listening (on no channel yet) to the database `config` names.
    pub(crate) fn start(config: &Config) -> Result<Self, StoreError> {
        let inner = Arc::new(Inner {
            config: config.clone(),
            handlers: Mutex::new(Vec::new()),
        });
        let weak = Arc::downgrade(&inner);
        std::thread::Builder::new()
            .name("ifmatch-pg-listen".to_owned())
            .spawn(move || run(&weak))
            .map_err(|err| StoreError::from_message(&format!("starting the listener: {err}")))?;
        Ok(Self { inner })
    }

    /// Hands what `channel` hears to `handler` from now on (`LISTEN`ed to within [`SLICE`]).
    pub(crate) fn subscribe(&self, channel: &'static str, handler: Handler) {
        self.inner.handlers().push((channel, handler));
    }
}

impl Inner {
    fn handlers(&self) -> MutexGuard<'_, Vec<(&'static str, Handler)>> {
        self.handlers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn channels(&self) -> Vec<&'static str> {
        let mut channels: Vec<_> = self.handlers().iter().map(|(c, _)| *c).collect();
        channels.sort_unstable();
        channels.dedup();
        channels
    }

    /// Calls every handler with its channel's part of `heard`, and drops the unwanted.
    fn deliver(&self, heard: &[(String, String)]) {
        self.handlers().retain_mut(|(channel, handler)| {
            let mine: Vec<String> = heard
                .iter()
                .filter(|(c, _)| c == channel)
                .map(|(_, payload)| payload.clone())
                .collect();
            handler(&mine)
        });
    }
}

/// Connects, listens and delivers until every handle is gone; reconnects after a failure
/// (handlers keep being called every [`TICK`] meanwhile, so they poll).
fn run(inner: &Weak<Inner>) {
    while let Some(config) = inner.upgrade().map(|i| i.config.clone()) {
        match config.connect(NoTls) {
            Ok(mut client) => {
                if let Err(err) = relay(&mut client, inner) {
                    tracing::warn!(error = %err, "the PostgreSQL listener lost its connection; reconnecting (waiters and the conflict log poll meanwhile)");
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "the PostgreSQL listener cannot connect; retrying (waiters and the conflict log poll meanwhile)");
                match inner.upgrade() {
                    Some(alive) => alive.deliver(&[]),
                    None => return,
                }
                std::thread::sleep(TICK);
            }
        }
    }
}

/// Listens on every channel asked for, and delivers what arrives at once, or nothing every
/// [`TICK`].
fn relay(client: &mut Client, inner: &Weak<Inner>) -> Result<(), postgres::Error> {
    let mut listening = HashSet::new();
    let mut delivered = Instant::now();
    loop {
        let Some(alive) = inner.upgrade() else {
            return Ok(());
        };
        for channel in alive.channels() {
            if listening.insert(channel) {
                client.batch_execute(&format!("LISTEN {channel}"))?;
            }
        }
        drop(alive);
        let mut heard = Vec::new();
        let mut notifications = client.notifications();
        let first = notifications.timeout_iter(SLICE).next()?;
        if let Some(first) = first {
            heard.push((first.channel().to_owned(), first.payload().to_owned()));
            // Whatever else has arrived goes with it.
            let mut more = notifications.iter();
            while let Some(note) = more.next()? {
                heard.push((note.channel().to_owned(), note.payload().to_owned()));
            }
        }
        if heard.is_empty() && delivered.elapsed() < TICK {
            continue;
        }
        match inner.upgrade() {
            Some(alive) => alive.deliver(&heard),
            None => return Ok(()),
        }
        delivered = Instant::now();
    }
}
