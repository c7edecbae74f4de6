//! Bodies in the OpenAI wire format, for a [`crate::http::Server`] that plays a model
//! server: chat completions with tool calls (as plain JSON, the way servers that ignore
//! `stream` answer) and embeddings.

use serde_json::{json, Value};

use crate::http::{Request, Response};

/// A chat completion saying `content` and making the tool calls `calls` (see [`tool_call`]);
/// its `finish_reason` is `tool_calls` when there are any, else `stop`.
pub fn completion(content: Option<&str>, calls: Vec<Value>) -> Value {
    let finish = if calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    };
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "test",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "tool_calls": calls}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 7, "total_tokens": 57}
    })
}

/// A streamed chat answer (SSE, `chat.completion.chunk`s) saying `pieces` one after the
/// other, then `stop` with the usage and `[DONE]`: the body of a [`crate::http::Response::sse`].
pub fn completion_stream(pieces: &[&str]) -> String {
    let mut sse = String::new();
    for p in pieces {
        let chunk = json!({"id": "c1", "object": "chat.completion.chunk", "model": "test",
            "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": null}]});
        sse.push_str(&format!("data: {chunk}\n\n"));
    }
    let end = json!({"id": "c1", "object": "chat.completion.chunk", "model": "test",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 7}});
    sse.push_str(&format!("data: {end}\n\ndata: [DONE]\n\n"));
    sse
}

/// One tool call of a [`completion`]: `name` with `arguments` (sent as a JSON string, as the
/// API does).
pub fn tool_call(id: &str, name: &str, arguments: Value) -> Value {
    json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments.to_string()}})
}

/// The texts of a request to `POST /v1/embeddings` (`input`: a string or a list of them).
pub fn embedding_inputs(request: &Request) -> Vec<String> {
    match &request.json()["input"] {
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().unwrap_or_default().to_string())
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// The answer to an embeddings `request`: `vector(text)` for each input, in input order
/// (`index` 0, 1, ...), with the request's `model` and a `usage`.
pub fn embeddings(request: &Request, vector: impl Fn(&str) -> Vec<f32>) -> Value {
    let data: Vec<Value> = embedding_inputs(request)
        .iter()
        .enumerate()
        .map(|(i, text)| json!({"object": "embedding", "index": i, "embedding": vector(text)}))
        .collect();
    json!({
        "object": "list",
        "data": data,
        "model": request.json()["model"],
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
    })
}

/// A small vector (8 dimensions) derived from the bytes of `text`: the same text always
/// gets the same vector.
pub fn hashed_vector(text: &str) -> Vec<f32> {
    let mut v = vec![0.0f32; 8];
    for (j, b) in text.bytes().enumerate() {
        v[j % 8] += (b as f32) / 255.0;
    }
    v[0] += 1.0;
    v
}

/// `200` with [`embeddings`] of [`hashed_vector`]s: a whole embeddings server in one call.
pub fn embeddings_reply(request: &Request) -> Response {
    Response::json(200, &embeddings(request, hashed_vector))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: Value) -> Request {
        Request {
            method: "POST".into(),
            path: "/v1/embeddings".into(),
            headers: Vec::new(),
            body: body.to_string().into_bytes(),
        }
    }

    #[test]
    fn completions_finish_by_what_they_hold() {
        let c = completion(None, vec![tool_call("c1", "search", json!({"query": "x"}))]);
        assert_eq!(c["choices"][0]["finish_reason"], "tool_calls");
        let call = &c["choices"][0]["message"]["tool_calls"][0];
        assert_eq!(call["function"]["arguments"], r#"{"query":"x"}"#);
        let c = completion(Some("done"), vec![]);
        assert_eq!(c["choices"][0]["finish_reason"], "stop");
        assert_eq!(c["choices"][0]["message"]["content"], "done");
    }

    #[test]
    fn embeddings_answer_every_input_in_order() {
        let req = request(json!({"model": "m", "input": ["ab", "c"]}));
        let v = embeddings(&req, |t| vec![t.len() as f32]);
        assert_eq!(v["model"], "m");
        assert_eq!(v["data"][0]["embedding"], json!([2.0]));
        assert_eq!(v["data"][1]["index"], 1);
        assert_eq!(
            embedding_inputs(&request(json!({"input": "one"}))),
            vec!["one"]
        );
        assert_eq!(hashed_vector("same"), hashed_vector("same"));
        assert_ne!(hashed_vector("same"), hashed_vector("other"));
    }
}
