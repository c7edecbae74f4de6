//! What the provider tests share besides the loopback server (`ploke_test_support::http`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ploke_test_support::http::Server;

/// Collects every event a chat reports.
pub fn recorder() -> (
    Arc<Mutex<Vec<ploke_llm::StreamEvent>>>,
    impl FnMut(ploke_llm::StreamEvent) + Send,
) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    (events, move |event| sink.lock().unwrap().push(event))
}

/// Whether the client closes a connection the server holds within a second. Waits off the
/// runtime's thread, so that the client's connection tasks run meanwhile.
pub async fn hung_up(server: &Server) -> bool {
    let latch = server.hung_up();
    tokio::task::spawn_blocking(move || latch.wait(Duration::from_secs(1)))
        .await
        .expect("waiting for the hang-up")
}
