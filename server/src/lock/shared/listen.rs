//! The listening connection of one replica: `LISTEN ifmatch_locks`, and every notification's
//! document id passed on to the replica's queued requests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, Config, NoTls};
use tokio::sync::broadcast;

use super::sql::CHANNEL;
use crate::storage::StoreError;

/// How often the thread looks whether its replica stopped.
const TICK: Duration = Duration::from_millis(500);
/// How long it waits before connecting again after losing the connection.
const RECONNECT: Duration = Duration::from_secs(1);

/// Starts the listening thread; it ends soon after `stop` is set.
pub(super) fn spawn(
    config: Config,
    wake: broadcast::Sender<String>,
    stop: Arc<AtomicBool>,
) -> Result<(), StoreError> {
    std::thread::Builder::new()
        .name("ifmatch-lock-listen".to_owned())
        .spawn(move || run(&config, &wake, &stop))
        .map(drop)
        .map_err(|err| StoreError::from_message(&format!("starting the lock listener: {err}")))
}

fn run(config: &Config, wake: &broadcast::Sender<String>, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match connect(config) {
            Ok(mut client) => {
                if let Err(err) = relay(&mut client, wake, stop) {
                    tracing::warn!(error = %err, "lock notifications lost; queued lock requests poll until the listener reconnects");
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for lock notifications; queued lock requests poll meanwhile");
            }
        }
        if !stop.load(Ordering::Relaxed) {
            std::thread::sleep(RECONNECT);
        }
    }
}

fn connect(config: &Config) -> Result<Client, postgres::Error> {
    let mut client = config.connect(NoTls)?;
    client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    Ok(client)
}

fn relay(
    client: &mut Client,
    wake: &broadcast::Sender<String>,
    stop: &AtomicBool,
) -> Result<(), postgres::Error> {
    while !stop.load(Ordering::Relaxed) {
        let mut notifications = client.notifications();
        let mut heard = notifications.timeout_iter(TICK);
        while let Some(note) = heard.next()? {
            // Nobody waiting on this replica is not an error.
            let _ = wake.send(note.payload().to_owned());
        }
    }
    Ok(())
}
