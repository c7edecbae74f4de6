//! The Anthropic client against the messages API's documented event stream.

use ploke_llm::{
    connect, Anthropic, ChatModel, ChatRequest, LlmError, Message, ProviderKind, StopReason,
    StreamEvent, ToolCall, ToolSpec, Usage,
};
use ploke_test_support::http::{split_events, Latch, Part, Response, Server};
use serde_json::json;

use crate::support::recorder;
use crate::{test_config, SECRET};

const TEXT: &str = include_str!("../data/anthropic_text.sse");
const TOOLS: &str = include_str!("../data/anthropic_tools.sse");

fn tools() -> Vec<ToolSpec> {
    vec![ToolSpec {
        name: "read_item".into(),
        description: "Read an item's source by path".into(),
        parameters: json!({"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}),
    }]
}

fn expected_calls() -> Vec<ToolCall> {
    vec![
        ToolCall {
            id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6".into(),
            name: "read_item".into(),
            arguments: json!({"path": "ploke_core::Graph::diff", "depth": 2, "kinds": ["fn", "struct"], "note": "é \"q\""}),
        },
        ToolCall {
            id: "toolu_01AbCdEfGhIjKlMnOpQrStUv".into(),
            name: "search".into(),
            arguments: json!({"query": "GraphDelta"}),
        },
    ]
}

#[tokio::test]
async fn text_streams_delta_by_delta() {
    let seen_first = Latch::new();
    let events = split_events(TEXT);
    // message_start, content_block_start, ping, the first text_delta; then wait for the client.
    let mut parts: Vec<Part> = events[..4]
        .iter()
        .map(|e| Part::Bytes(e.clone().into_bytes()))
        .collect();
    parts.push(Part::Wait(seen_first.clone()));
    parts.extend(
        events[4..]
            .iter()
            .map(|e| Part::Bytes(e.clone().into_bytes())),
    );
    let server = Server::script([Response::stream(parts, true)]);

    let model = connect(&test_config(ProviderKind::Anthropic, server.url_at(""))).unwrap();
    let mut request = ChatRequest::new(vec![Message::user("What does `Graph::diff` return?")]);
    request.system = Some("You answer questions about a Rust workspace.".into());
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

    assert_eq!(
        response.text,
        "`Graph::diff` returns a `GraphDelta` — nodes\nand edges ✓"
    );
    assert_eq!(response.stop_reason, StopReason::EndTurn);
    assert_eq!(
        response.usage,
        Usage {
            input_tokens: 472,
            output_tokens: 15
        }
    );
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 5);
    assert_eq!(events[0], StreamEvent::TextDelta("`Graph::diff`".into()));
    assert_eq!(
        events[3],
        StreamEvent::TextDelta(" nodes\nand edges ✓".into())
    );
    assert_eq!(
        events[4],
        StreamEvent::Done {
            stop_reason: StopReason::EndTurn,
            usage: response.usage
        }
    );

    let sent = &server.requests()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/messages")
    );
    assert_eq!(sent.header("x-api-key"), Some(SECRET));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(
        sent.json(),
        json!({
            "model": "test-model",
            "max_tokens": 4096,
            "stream": true,
            "system": "You answer questions about a Rust workspace.",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "What does `Graph::diff` return?"}]}],
        })
    );
}

#[tokio::test]
async fn tool_input_split_anywhere_is_reassembled() {
    for chunked in [true, false] {
        let server = Server::script([Response::sse_in_pieces(TOOLS, 5, chunked)]);
        let model =
            Anthropic::new(&test_config(ProviderKind::Anthropic, server.url_at("/"))).unwrap();
        let mut request = ChatRequest::new(vec![Message::user("Look at Graph::diff")]);
        request.tools = tools();
        let (events, mut sink) = recorder();
        let response = model.chat(&request, &mut sink).await.unwrap();

        assert_eq!(response.text, "Let me read that item.");
        assert_eq!(response.tool_calls, expected_calls());
        assert_eq!(response.stop_reason, StopReason::ToolUse);
        assert_eq!(
            response.usage,
            Usage {
                input_tokens: 472,
                output_tokens: 89
            }
        );
        let events = events.lock().unwrap();
        assert_eq!(
            events[..4],
            [
                StreamEvent::TextDelta("Let me read".into()),
                StreamEvent::TextDelta(" that item.".into()),
                StreamEvent::ToolCall(expected_calls()[0].clone()),
                StreamEvent::ToolCall(expected_calls()[1].clone()),
            ]
        );
        assert_eq!(events.len(), 5);
    }
}

#[tokio::test]
async fn a_tool_round_trip_sends_tool_use_and_tool_result_blocks() {
    let server = Server::script([Response::sse(TOOLS), Response::sse(TEXT)]);
    let model = connect(&test_config(ProviderKind::Anthropic, server.url_at(""))).unwrap();
    let mut request = ChatRequest::new(vec![Message::user("Look at Graph::diff")]);
    request.system = Some("Be brief.".into());
    request.tools = tools();
    request.max_tokens = Some(1000);
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
    request
        .messages
        .push(Message::system("Answer in one sentence."));
    let second = model.chat(&request, &mut |_| {}).await.unwrap();
    assert_eq!(second.stop_reason, StopReason::EndTurn);

    let requests = server.requests();
    assert_eq!(
        requests[0].json()["tools"],
        json!([{"name": "read_item", "description": "Read an item's source by path",
                "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}])
    );
    let body = requests[1].json();
    assert_eq!(body["system"], "Be brief.\n\nAnswer in one sentence.");
    assert_eq!(body["max_tokens"], 1000);
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "Look at Graph::diff"}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me read that item."},
                {"type": "tool_use", "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "read_item",
                 "input": {"path": "ploke_core::Graph::diff", "depth": 2, "kinds": ["fn", "struct"], "note": "é \"q\""}},
                {"type": "tool_use", "id": "toolu_01AbCdEfGhIjKlMnOpQrStUv", "name": "search", "input": {"query": "GraphDelta"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
                 "content": "pub fn diff(&self, new: &Graph) -> GraphDelta"},
                {"type": "tool_result", "tool_use_id": "toolu_01AbCdEfGhIjKlMnOpQrStUv",
                 "content": "search index not built", "is_error": true},
            ]},
        ])
    );
}

#[tokio::test]
async fn an_error_event_fails_the_request() {
    let events = split_events(TEXT);
    let mut stream = events[..4].concat();
    stream.push_str("event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n");
    let server = Server::script([Response::sse(&stream)]);
    let model = connect(&test_config(ProviderKind::Anthropic, server.url_at(""))).unwrap();
    let (events, mut sink) = recorder();
    let error = model
        .chat(&ChatRequest::new(vec![Message::user("hi")]), &mut sink)
        .await
        .unwrap_err();
    assert!(matches!(error, LlmError::Provider { .. }), "{error:?}");
    assert!(
        error.to_string().contains("overloaded_error: Overloaded"),
        "{error}"
    );
    assert_eq!(
        *events.lock().unwrap(),
        vec![StreamEvent::TextDelta("`Graph::diff`".into())]
    );
}

#[tokio::test]
async fn a_rejected_key_names_the_variable_and_is_never_echoed() {
    let body = format!(
        r#"{{"type":"error","error":{{"type":"authentication_error","message":"invalid x-api-key: {SECRET}"}}}}"#
    );
    let server = Server::script([Response::raw_json(401, &body)]);
    let model = connect(&test_config(ProviderKind::Anthropic, server.url_at(""))).unwrap();
    let error = model
        .chat(&ChatRequest::new(vec![Message::user("hi")]), &mut |_| {})
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, LlmError::Auth { status: 401, .. }),
        "{error:?}"
    );
    assert!(message.contains("ANTHROPIC_API_KEY"), "{message}");
    assert!(message.contains("authentication_error"), "{message}");
    assert!(!message.contains(SECRET), "{message}");
    assert!(!format!("{error:?}").contains(SECRET));
    assert!(error.is_user_fault());
    assert_eq!(server.requests().len(), 1, "401 is not retried");
}
