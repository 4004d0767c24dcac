//! The native client and its futures can move between tokio worker threads.

use ifmatch::{Client, Strategy};
use serde_json::Value;

fn assert_send<T: Send>(_: &T) {}
fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn client_and_operation_futures_are_send() {
    assert_send_sync::<Client>();
    assert_send_sync::<ifmatch::Error>();
    let client = Client::builder().build().unwrap();
    assert_send(&client.get::<Value>("http://127.0.0.1:1/x"));
    let tag = ifmatch::EntityTag::strong("1").unwrap();
    assert_send(&client.put("http://127.0.0.1:1/x", &1, &tag));
    assert_send(&client.patch("http://127.0.0.1:1/x", &1, &tag));
    assert_send(&client.delete("http://127.0.0.1:1/x", &tag));
    let update = client
        .update::<Value>("http://127.0.0.1:1/x", |doc| {
            doc["n"] = 1.into();
            Ok(())
        })
        .strategy(Strategy::ThreeWayMerge)
        .send();
    assert_send(&update);
    assert_send_sync::<ifmatch::Transaction>();
    assert_send_sync::<ifmatch::BatchResult>();
    assert_send_sync::<ifmatch::CommitResult>();
    assert_send(&client.batch().check("http://127.0.0.1:1/x", &tag).send());
    assert_send(&client.begin().send());
    let run = client.transaction(|tx| async move {
        let read = tx.get::<Value>("http://127.0.0.1:1/x").await?;
        tx.put("http://127.0.0.1:1/x", &read.value, &read).await?;
        Ok(read.value)
    });
    assert_send(&std::future::IntoFuture::into_future(run));
}
