//! The stdio transport: `Content-Length` framed JSON-RPC, as `lsp-server`'s own, except that
//! a frame that is not JSON, or JSON that is not a message, is answered with the protocol's
//! error (`ParseError`, `InvalidRequest`) and the server goes on reading, instead of the
//! connection ending.

use std::io::{BufRead, Read, Write};
use std::thread::JoinHandle;

use crossbeam_channel::{select, unbounded, Receiver, Sender};
use lsp_server::{Connection, Message};

/// The threads behind [`stdio`]; [`Transport::join`] waits for them.
pub struct Transport {
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
    stop: Sender<()>,
}

impl Transport {
    /// Waits until the client closed stdin (or sent `exit`), writes what is still queued and
    /// stops writing (senders kept elsewhere, such as an event subscription, do not keep it
    /// open).
    pub fn join(self) {
        let _ = self.reader.join();
        let _ = self.stop.send(());
        let _ = self.writer.join();
    }
}

/// A connection over this process's stdin and stdout.
pub fn stdio() -> (Connection, Transport) {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    over(
        move || Box::new(stdin.lock()) as Box<dyn BufRead>,
        move || Box::new(stdout.lock()) as Box<dyn Write>,
    )
}

/// A connection over any reader and writer (made on their threads).
pub fn over(
    input: impl FnOnce() -> Box<dyn BufRead> + Send + 'static,
    output: impl FnOnce() -> Box<dyn Write> + Send + 'static,
) -> (Connection, Transport) {
    let (to_client, outgoing) = unbounded::<Message>();
    let (raw_tx, raw_rx) = unbounded::<String>();
    let (incoming_tx, incoming) = unbounded::<Message>();
    let (stop, stop_rx) = unbounded::<()>();
    let writer = std::thread::Builder::new()
        .name("ploke-lsp-writer".into())
        .spawn(move || write_loop(output(), outgoing, raw_rx, stop_rx))
        .expect("starting the LSP writer thread");
    let reader = std::thread::Builder::new()
        .name("ploke-lsp-reader".into())
        .spawn(move || read_loop(input(), incoming_tx, raw_tx))
        .expect("starting the LSP reader thread");
    (
        Connection {
            sender: to_client,
            receiver: incoming,
        },
        Transport {
            reader,
            writer,
            stop,
        },
    )
}

fn write_loop(
    mut out: Box<dyn Write>,
    mut messages: Receiver<Message>,
    mut raw: Receiver<String>,
    stop: Receiver<()>,
) {
    let frame = |out: &mut Box<dyn Write>, body: &str| -> std::io::Result<()> {
        write!(out, "Content-Length: {}\r\n\r\n{body}", body.len())?;
        out.flush()
    };
    // A channel whose senders are all gone is swapped for one that never delivers, so that
    // the other still drains: the server may drop its connection while the reader's error
    // frames are still queued, and those go out too. Both gone, or the stop signal: done.
    let (mut messages_open, mut raw_open) = (true, true);
    loop {
        let result = select! {
            recv(messages) -> m => match m {
                Ok(m) => m.write(&mut out),
                Err(_) => {
                    messages = crossbeam_channel::never();
                    messages_open = false;
                    Ok(())
                }
            },
            recv(raw) -> r => match r {
                Ok(body) => frame(&mut out, &body),
                Err(_) => {
                    raw = crossbeam_channel::never();
                    raw_open = false;
                    Ok(())
                }
            },
            recv(stop) -> _ => {
                // What is queued still goes out.
                while let Ok(body) = raw.try_recv() {
                    if frame(&mut out, &body).is_err() {
                        return;
                    }
                }
                while let Ok(m) = messages.try_recv() {
                    if m.write(&mut out).is_err() {
                        return;
                    }
                }
                return;
            },
        };
        if result.is_err() || !(messages_open || raw_open) {
            // The client is gone, or nothing more can come.
            return;
        }
    }
}

/// A JSON-RPC error frame with `id` (JSON) for a message that could not be taken.
fn error_frame(id: &serde_json::Value, code: i32, message: &str) -> String {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": code, "message": message},
    })
    .to_string()
}

fn read_loop(mut input: Box<dyn BufRead>, incoming: Sender<Message>, raw: Sender<String>) {
    loop {
        // Headers up to an empty line; only Content-Length matters.
        let mut length: Option<usize> = None;
        let mut saw_header = false;
        loop {
            let mut line = String::new();
            match input.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if saw_header {
                    break;
                }
                continue;
            }
            saw_header = true;
            if let Some((name, value)) = line.split_once(':') {
                if name.trim().eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().ok();
                }
            }
        }
        let Some(length) = length else {
            let _ = raw.send(error_frame(
                &serde_json::Value::Null,
                -32700,
                "a frame without a valid Content-Length header",
            ));
            continue;
        };
        let mut body = vec![0u8; length];
        if input.read_exact(&mut body).is_err() {
            return;
        }
        let value: serde_json::Value = match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                let _ = raw.send(error_frame(
                    &serde_json::Value::Null,
                    -32700,
                    &format!("not JSON: {e}"),
                ));
                continue;
            }
        };
        let id = value.get("id").cloned().unwrap_or(serde_json::Value::Null);
        // An object with a method (request, notification) or an id (response); serde would
        // read `[1, 2]` as a response's fields.
        let shaped =
            value.is_object() && (value.get("method").is_some() || value.get("id").is_some());
        let parsed = if shaped {
            serde_json::from_value::<Message>(value).map_err(|e| e.to_string())
        } else {
            Err("expected an object with `method` or `id`".to_string())
        };
        let msg: Message = match parsed {
            Ok(m) => m,
            Err(e) => {
                let _ = raw.send(error_frame(
                    &id,
                    -32600,
                    &format!("not a JSON-RPC request, notification or response: {e}"),
                ));
                continue;
            }
        };
        let exit = matches!(&msg, Message::Notification(n) if n.method == "exit");
        if incoming.send(msg).is_err() || exit {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose bytes the test reads back.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn bad_frames_are_answered_and_reading_goes_on() {
        let frame = |b: &str| format!("Content-Length: {}\r\n\r\n{b}", b.len());
        let input = [
            frame("not json!"),
            frame("[1, 2]"),
            "X-Nonsense: 1\r\n\r\n".to_string(),
            frame(r#"{"jsonrpc":"2.0","id":7,"method":"ping","params":null}"#),
            frame(r#"{"jsonrpc":"2.0","method":"exit","params":null}"#),
        ]
        .concat();
        let out = Shared::default();
        let sink = out.clone();
        let (conn, transport) = over(
            move || Box::new(std::io::Cursor::new(input.into_bytes())),
            move || Box::new(sink),
        );
        let got: Vec<Message> = conn.receiver.iter().collect();
        assert!(
            matches!(&got[0], Message::Request(r) if r.method == "ping"),
            "{got:?}"
        );
        assert!(matches!(&got[1], Message::Notification(n) if n.method == "exit"));
        drop(conn);
        transport.join();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.matches("\"code\":-32700").count(), 2, "{text}");
        assert_eq!(text.matches("\"code\":-32600").count(), 1, "{text}");
    }
}
