//! The OpenAI-compatible client against OpenAI's documented chat completions stream.

use ploke_llm::{
    connect, ChatModel, ChatRequest, Message, OpenAiCompatible, ProviderKind, StopReason,
    StreamEvent, ToolCall, ToolSpec, Usage,
};
use ploke_test_support::http::{split_events, Latch, Part, Response, Server};
use serde_json::json;

use crate::support::recorder;
use crate::{test_config, SECRET};

const TEXT: &str = include_str!("../data/openai_text.sse");
const TOOLS: &str = include_str!("../data/openai_tools.sse");

fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: "read_item".into(),
            description: "Read an item's source by path".into(),
            parameters: json!({"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}),
        },
        ToolSpec {
            name: "search".into(),
            description: "Search the code graph".into(),
            parameters: json!({"type": "object", "properties": {"query": {"type": "string"}}}),
        },
    ]
}

fn expected_calls() -> Vec<ToolCall> {
    vec![
        ToolCall {
            id: "call_DdmO9pD3xa9XTPNJ32zg2hcA".into(),
            name: "read_item".into(),
            arguments: json!({"path": "ploke_core::Graph::diff", "depth": 2, "kinds": ["fn", "struct"], "note": "é \"q\""}),
        },
        ToolCall {
            id: "call_f3Kq8Zr0bW1nLxYp7TcVm2Ue".into(),
            name: "search".into(),
            arguments: json!({"query": "GraphDelta"}),
        },
    ]
}

#[tokio::test]
async fn text_streams_delta_by_delta() {
    // The server sends the first text delta, then waits until the client has reported it:
    // a client that buffered the answer would stall here and time out.
    let seen_first = Latch::new();
    let events = split_events(TEXT);
    let mut parts: Vec<Part> = events[..2]
        .iter()
        .map(|e| Part::Bytes(e.clone().into_bytes()))
        .collect();
    parts.push(Part::Wait(seen_first.clone()));
    parts.extend(
        events[2..]
            .iter()
            .map(|e| Part::Bytes(e.clone().into_bytes())),
    );
    let server = Server::script([Response::stream(parts, true)]);

    let model = connect(&test_config(ProviderKind::OpenAi, server.url_at("/v1/"))).unwrap();
    let mut request = ChatRequest::new(vec![Message::user("What does `Graph::diff` return?")]);
    request.system = Some("You answer questions about a Rust workspace.".into());
    request.max_tokens = Some(512);
    request.temperature = Some(0.25);
    let (events, mut sink) = recorder();
    let response = model
        .chat(&request, &mut |event| {
            if matches!(event, StreamEvent::TextDelta(_)) {
                seen_first.set();
            }
            sink(event)
        })
        .await
        .unwrap();

    let text = "`Graph::diff` returns a `GraphDelta` — nodes\nand edges ✓";
    assert_eq!(response.text, text);
    assert_eq!(response.stop_reason, StopReason::EndTurn);
    assert_eq!(
        response.usage,
        Usage {
            input_tokens: 812,
            output_tokens: 14
        }
    );
    assert!(response.tool_calls.is_empty());
    assert_eq!(
        *events.lock().unwrap(),
        vec![
            StreamEvent::TextDelta("`Graph::diff`".into()),
            StreamEvent::TextDelta(" returns a".into()),
            StreamEvent::TextDelta(" `GraphDelta` —".into()),
            StreamEvent::TextDelta(" nodes\nand edges ✓".into()),
            StreamEvent::Done {
                stop_reason: StopReason::EndTurn,
                usage: response.usage
            },
        ]
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {SECRET}").as_str())
    );
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(
        sent.json(),
        json!({
            "model": "test-model",
            "messages": [
                {"role": "system", "content": "You answer questions about a Rust workspace."},
                {"role": "user", "content": "What does `Graph::diff` return?"},
            ],
            "stream": true,
            "stream_options": {"include_usage": true},
            "max_tokens": 512,
            "temperature": 0.25,
        })
    );
}

#[tokio::test]
async fn tool_calls_split_anywhere_are_reassembled() {
    // Cut every 7 bytes: through lines, JSON, escapes and UTF-8 characters alike.
    for chunked in [true, false] {
        let server = Server::script([Response::sse_in_pieces(TOOLS, 7, chunked)]);
        let model = OpenAiCompatible::new(&test_config(ProviderKind::OpenAi, server.url_at("/v1")))
            .unwrap();
        let mut request = ChatRequest::new(vec![Message::user("Look at Graph::diff")]);
        request.tools = tools();
        let (events, mut sink) = recorder();
        let response = model.chat(&request, &mut sink).await.unwrap();

        assert_eq!(response.tool_calls, expected_calls());
        assert_eq!(response.text, "");
        assert_eq!(response.stop_reason, StopReason::ToolUse);
        assert_eq!(
            response.usage,
            Usage {
                input_tokens: 201,
                output_tokens: 57
            }
        );
        let events = events.lock().unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(
            events[0],
            StreamEvent::ToolCall(expected_calls()[0].clone())
        );
        assert_eq!(
            events[1],
            StreamEvent::ToolCall(expected_calls()[1].clone())
        );
        assert!(matches!(
            events[2],
            StreamEvent::Done {
                stop_reason: StopReason::ToolUse,
                ..
            }
        ));
    }
}

#[tokio::test]
async fn a_tool_round_trip_sends_calls_and_results_in_openai_format() {
    let server = Server::script([Response::sse(TOOLS), Response::sse(TEXT)]);
    let model = connect(&test_config(ProviderKind::OpenAi, server.url_at("/v1"))).unwrap();
    let mut request = ChatRequest::new(vec![Message::user("Look at Graph::diff")]);
    request.tools = tools();
    let first = model.chat(&request, &mut |_| {}).await.unwrap();
    request.messages.push(first.to_message());
    request.messages.push(Message::tool_result(
        &first.tool_calls[0].id,
        "pub fn diff(&self, new: &Graph) -> GraphDelta",
    ));
    request.messages.push(Message::tool_error(
        &first.tool_calls[1].id,
        "search index not built",
    ));
    let second = model.chat(&request, &mut |_| {}).await.unwrap();
    assert!(second.text.starts_with("`Graph::diff` returns"));

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].json()["tools"],
        json!([
            {"type": "function", "function": {"name": "read_item", "description": "Read an item's source by path",
              "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}},
            {"type": "function", "function": {"name": "search", "description": "Search the code graph",
              "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}},
        ])
    );
    let messages = requests[1].json()["messages"].clone();
    assert_eq!(messages.as_array().unwrap().len(), 4);
    assert_eq!(
        messages[0],
        json!({"role": "user", "content": "Look at Graph::diff"})
    );
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(messages[1]["content"], serde_json::Value::Null);
    let calls = messages[1]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["id"], "call_DdmO9pD3xa9XTPNJ32zg2hcA");
    assert_eq!(calls[0]["type"], "function");
    assert_eq!(calls[0]["function"]["name"], "read_item");
    // Arguments travel as a JSON string holding the object.
    let arguments: serde_json::Value =
        serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(arguments, expected_calls()[0].arguments);
    assert_eq!(
        messages[2],
        json!({"role": "tool", "tool_call_id": "call_DdmO9pD3xa9XTPNJ32zg2hcA", "content": "pub fn diff(&self, new: &Graph) -> GraphDelta"})
    );
    assert_eq!(
        messages[3],
        json!({"role": "tool", "tool_call_id": "call_f3Kq8Zr0bW1nLxYp7TcVm2Ue", "content": "search index not built"})
    );
}

#[tokio::test]
async fn a_server_that_does_not_stream_is_understood() {
    let completion = json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1718000000, "model": "llama3",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "Reading.",
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "read_item", "arguments": "{\"path\":\"a::b\"}"}}]}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    });
    let server = Server::script([Response::raw_json(200, &completion.to_string())]);
    let model = connect(&test_config(ProviderKind::OpenAi, server.url_at("/v1"))).unwrap();
    let (events, mut sink) = recorder();
    let response = model
        .chat(&ChatRequest::new(vec![Message::user("hi")]), &mut sink)
        .await
        .unwrap();
    assert_eq!(response.text, "Reading.");
    assert_eq!(
        response.tool_calls,
        vec![ToolCall {
            id: "call_1".into(),
            name: "read_item".into(),
            arguments: json!({"path": "a::b"})
        }]
    );
    assert_eq!(response.stop_reason, StopReason::ToolUse);
    assert_eq!(
        response.usage,
        Usage {
            input_tokens: 10,
            output_tokens: 5
        }
    );
    assert_eq!(events.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn arguments_that_are_not_json_are_kept_as_text() {
    let stream = concat!(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_x\",\"function\":{\"name\":\"search\",\"arguments\":\"{query: oops\"}}]},\"finish_reason\":null}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
        "data: [DONE]\n\n",
    );
    let server = Server::script([Response::sse(stream)]);
    let model = connect(&test_config(ProviderKind::OpenAi, server.url_at("/v1"))).unwrap();
    let response = model
        .chat(&ChatRequest::new(vec![Message::user("hi")]), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(response.tool_calls[0].arguments, json!("{query: oops"));
}

#[tokio::test]
async fn a_malformed_stream_says_so() {
    let server = Server::script([Response::sse("data: {\"choices\": [\n\n")]);
    let model = connect(&test_config(ProviderKind::OpenAi, server.url_at("/v1"))).unwrap();
    let error = model
        .chat(&ChatRequest::new(vec![Message::user("hi")]), &mut |_| {})
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "malformed stream from {}",
            server.url_at("/v1/chat/completions")
        )),
        "{message}"
    );
    assert!(message.contains("not JSON"), "{message}");
}

#[tokio::test]
async fn a_stream_cut_short_is_malformed() {
    let events = split_events(TEXT);
    let server = Server::script([Response::sse(&events[..3].concat())]);
    let model = connect(&test_config(ProviderKind::OpenAi, server.url_at("/v1"))).unwrap();
    let (events, mut sink) = recorder();
    let error = model
        .chat(&ChatRequest::new(vec![Message::user("hi")]), &mut sink)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("malformed stream"), "{error}");
    assert!(
        error
            .to_string()
            .contains("ended before the answer was complete"),
        "{error}"
    );
    // What arrived was reported; no `Done` was.
    assert_eq!(events.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn an_error_inside_the_stream_is_reported() {
    let stream = concat!(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n",
        "data: {\"error\":{\"message\":\"Upstream provider overloaded\",\"code\":502}}\n\n",
    );
    let server = Server::script([Response::sse(stream)]);
    let model = connect(&test_config(ProviderKind::OpenAi, server.url_at("/v1"))).unwrap();
    let error = model
        .chat(&ChatRequest::new(vec![Message::user("hi")]), &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("Upstream provider overloaded"),
        "{error}"
    );
    assert!(!error.is_user_fault());
}
