//! A scripted loopback HTTP/1.1 server, written by hand so that the bytes on the wire are
//! exactly what the tests say: each accepted connection gets the next scripted reply and is
//! closed after it. Every request is recorded for the test to inspect.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One piece of a streamed body.
#[derive(Clone)]
pub enum Part {
    /// Bytes, written and flushed (one HTTP chunk when chunked).
    Bytes(Vec<u8>),
    /// Wait until the test signals (proves the client saw what came before).
    Wait(Arc<Notify>),
    /// Never send anything more; hold the connection until the client closes it.
    Stall,
}

/// What the server answers to one request.
#[derive(Clone)]
pub enum Reply {
    /// `200 OK`, `text/event-stream`, the parts in order.
    Stream { parts: Vec<Part>, chunked: bool },
    /// Any status with headers and a body.
    Status {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Read the request, answer nothing, hold the connection until the client closes it.
    Stall,
}

impl Reply {
    /// A stream of `sse` with one HTTP chunk per event.
    pub fn sse(sse: &str) -> Reply {
        let parts = split_events(sse)
            .into_iter()
            .map(|e| Part::Bytes(e.into_bytes()))
            .collect();
        Reply::Stream {
            parts,
            chunked: true,
        }
    }

    /// A stream of `sse` cut every `size` bytes, regardless of lines or characters.
    pub fn sse_in_pieces(sse: &str, size: usize, chunked: bool) -> Reply {
        let parts = sse
            .as_bytes()
            .chunks(size)
            .map(|c| Part::Bytes(c.to_vec()))
            .collect();
        Reply::Stream { parts, chunked }
    }

    /// A JSON error answer.
    pub fn status(status: u16, body: &str) -> Reply {
        Reply::Status {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    /// Adds a header to a `Status` reply.
    pub fn with_header(self, name: &str, value: &str) -> Reply {
        match self {
            Reply::Status {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.to_string(), value.to_string()));
                Reply::Status {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }
}

/// The events of an SSE text, each with its blank line.
pub fn split_events(sse: &str) -> Vec<String> {
    sse.split_inclusive("\n\n").map(str::to_string).collect()
}

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the request body is JSON")
    }
}

pub struct Server {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    /// Notified each time a stalled connection is closed by the client.
    pub closed: Arc<Notify>,
}

impl Server {
    /// Starts serving `replies`, one per connection, in order. Requests beyond the script
    /// get `418` so that they fail loudly and are not retried.
    pub async fn start(replies: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let closed = Arc::new(Notify::new());
        let (recorded, closed_signal) = (requests.clone(), closed.clone());
        tokio::spawn(async move {
            let mut replies = replies.into_iter();
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let reply = replies.next().unwrap_or_else(|| {
                    Reply::status(418, r#"{"error":"test server: no reply scripted"}"#)
                });
                let (recorded, closed_signal) = (recorded.clone(), closed_signal.clone());
                tokio::spawn(async move { serve(socket, reply, recorded, closed_signal).await });
            }
        });
        Server {
            addr,
            requests,
            closed,
        }
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

async fn serve(
    mut socket: TcpStream,
    reply: Reply,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    closed: Arc<Notify>,
) {
    let Some(request) = read_request(&mut socket).await else {
        return;
    };
    recorded.lock().unwrap().push(request);
    match reply {
        Reply::Status {
            status,
            headers,
            body,
        } => {
            let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
            for (name, value) in &headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str(&format!(
                "content-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            ));
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(body.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
        Reply::Stream { parts, chunked } => {
            let mut head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n".to_string();
            if chunked {
                head.push_str("transfer-encoding: chunked\r\n\r\n");
            } else {
                let length: usize = parts
                    .iter()
                    .map(|p| if let Part::Bytes(b) = p { b.len() } else { 0 })
                    .sum();
                head.push_str(&format!("content-length: {length}\r\n\r\n"));
            }
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for part in parts {
                match part {
                    Part::Bytes(bytes) => {
                        let mut frame = Vec::new();
                        if chunked {
                            frame.extend_from_slice(format!("{:x}\r\n", bytes.len()).as_bytes());
                            frame.extend_from_slice(&bytes);
                            frame.extend_from_slice(b"\r\n");
                        } else {
                            frame = bytes;
                        }
                        if socket.write_all(&frame).await.is_err() || socket.flush().await.is_err()
                        {
                            return;
                        }
                    }
                    Part::Wait(signal) => signal.notified().await,
                    Part::Stall => {
                        wait_for_close(&mut socket).await;
                        closed.notify_one();
                        return;
                    }
                }
            }
            if chunked {
                let _ = socket.write_all(b"0\r\n\r\n").await;
            }
            let _ = socket.shutdown().await;
        }
        Reply::Stall => {
            wait_for_close(&mut socket).await;
            closed.notify_one();
        }
    }
}

async fn wait_for_close(socket: &mut TcpStream) {
    let mut buf = [0u8; 1024];
    while let Ok(n) = socket.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}

async fn read_request(socket: &mut TcpStream) -> Option<Recorded> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(pos) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8(data[..head_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let (method, path) = (
        request_line.next()?.to_string(),
        request_line.next()?.to_string(),
    );
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = data[head_end..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Some(Recorded {
        method,
        path,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        529 => "Overloaded",
        _ => "Status",
    }
}

/// Collects every event a chat reports.
pub fn recorder() -> (
    Arc<Mutex<Vec<ploke_llm::StreamEvent>>>,
    impl FnMut(ploke_llm::StreamEvent) + Send,
) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    (events, move |event| sink.lock().unwrap().push(event))
}
