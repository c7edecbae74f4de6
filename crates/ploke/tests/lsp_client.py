"""Drives `ploke lsp` with pygls's language client (PyPI), as an editor would.

Usage: lsp_client.py PLOKE_BINARY WORKSPACE

The workspace is the one `tests/lsp.rs` writes (src/lib.rs: retry_delay, backoff, the trait
Policy and its impl for Fixed). Exits non-zero with a message on the first wrong answer.
"""

import asyncio
import pathlib
import sys

from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pygls.lsp.client import BaseLanguageClient


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")


async def main(binary: str, ws: str) -> None:
    root = pathlib.Path(ws).resolve()
    lib = (root / "src" / "lib.rs").as_uri()
    client = BaseLanguageClient("ploke-test", "1")
    applied = []
    shown = []

    @client.feature(t.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: t.ApplyWorkspaceEditParams):
        applied.append(params)
        return t.ApplyWorkspaceEditResult(applied=True)

    @client.feature(t.WINDOW_SHOW_MESSAGE)
    def show_message(params: t.ShowMessageParams):
        shown.append(params.message)

    await client.start_io(binary, "lsp", cwd=str(root))

    # Before `initialize`: ServerNotInitialized (-32002), and the server keeps serving.
    try:
        await asyncio.wait_for(
            client.protocol.send_request_async(
                "workspace/symbol", t.WorkspaceSymbolParams(query="retry")
            ),
            10,
        )
        check(False, "a request before initialize is refused")
    except JsonRpcException as e:
        check(e.code == -32002, f"ServerNotInitialized, got {e.code}: {e}")

    init = await client.initialize_async(
        t.InitializeParams(
            capabilities=t.ClientCapabilities(),
            root_uri=root.as_uri(),
            workspace_folders=[t.WorkspaceFolder(uri=root.as_uri(), name="ws")],
        )
    )
    caps = init.capabilities
    check(caps.workspace_symbol_provider, "workspace symbols offered")
    check(caps.hover_provider, "hover offered")
    check(caps.call_hierarchy_provider, "call hierarchy offered")
    check(init.server_info.name == "ploke", f"server name: {init.server_info}")
    client.initialized(t.InitializedParams())

    # Workspace symbols: fuzzy, ranked (the exact prefix first).
    syms = await client.workspace_symbol_async(t.WorkspaceSymbolParams(query="retry"))
    check(syms and syms[0].name == "retry_delay", f"retry -> retry_delay first: {syms}")
    check(syms[0].kind == t.SymbolKind.Function, f"a function: {syms[0].kind}")
    check(syms[0].location.uri == lib, f"in src/lib.rs: {syms[0].location.uri}")
    check(syms[0].location.range.start.line == 2, f"from its doc line: {syms[0].location.range}")
    subseq = await client.workspace_symbol_async(t.WorkspaceSymbolParams(query="bkf"))
    check(any(s.name == "backoff" for s in subseq), f"bkf finds backoff: {subseq}")
    none = await client.workspace_symbol_async(t.WorkspaceSymbolParams(query="zzqqxx"))
    check(none == [], f"nothing for zzqqxx: {none}")

    # Hover: signature, canonical path, relation counts, first doc line.
    pos = t.TextDocumentPositionParams(
        text_document=t.TextDocumentIdentifier(uri=lib), position=t.Position(line=3, character=9)
    )
    hover = await client.text_document_hover_async(
        t.HoverParams(text_document=pos.text_document, position=pos.position)
    )
    text = hover.contents.value
    for want in [
        "pub fn retry_delay(attempt: u32) -> u64",
        "`lspws::retry_delay`",
        "1 caller",
        "1 callee",
        "Waits before trying the request again.",
    ]:
        check(want in text, f"hover has {want!r}: {text!r}")
    # A position outside every item, and far outside the file: no answer, no error.
    far = await client.text_document_hover_async(
        t.HoverParams(text_document=pos.text_document, position=t.Position(line=9999, character=0))
    )
    check(far is None, f"nothing at line 10000: {far}")

    # References: the call site in `<Fixed as Policy>::delay` (line 21).
    refs = await client.text_document_references_async(
        t.ReferenceParams(
            text_document=pos.text_document,
            position=pos.position,
            context=t.ReferenceContext(include_declaration=False),
        )
    )
    check([(r.uri, r.range.start.line) for r in refs] == [(lib, 20)], f"references: {refs}")

    # Call hierarchy: backoff <- retry_delay; retry_delay -> backoff.
    items = await client.text_document_prepare_call_hierarchy_async(
        t.CallHierarchyPrepareParams(
            text_document=pos.text_document, position=t.Position(line=8, character=4)
        )
    )
    check(items and items[0].name == "backoff", f"prepared backoff: {items}")
    incoming = await client.call_hierarchy_incoming_calls_async(
        t.CallHierarchyIncomingCallsParams(item=items[0])
    )
    check(
        [(c.from_.name, [r.start.line for r in c.from_ranges]) for c in incoming]
        == [("retry_delay", [4])],
        f"incoming: {incoming}",
    )
    top = await client.text_document_prepare_call_hierarchy_async(
        t.CallHierarchyPrepareParams(text_document=pos.text_document, position=pos.position)
    )
    outgoing = await client.call_hierarchy_outgoing_calls_async(
        t.CallHierarchyOutgoingCallsParams(item=top[0])
    )
    check([c.to.name for c in outgoing] == ["backoff"], f"outgoing: {outgoing}")

    # Code lenses: callers and impls.
    lenses = await client.text_document_code_lens_async(
        t.CodeLensParams(text_document=pos.text_document)
    )
    titles = {l.range.start.line: l.command.title for l in lenses}
    check(titles.get(2) == "1 caller", f"retry_delay's lens: {titles}")
    check(titles.get(12) == "0 callers · 1 impl", f"Policy's lens: {titles}")

    # Code actions on an item: ask about it, edit it; both through the configured model (a
    # loopback OpenAI-compatible server the test runs).
    actions = await client.text_document_code_action_async(
        t.CodeActionParams(
            text_document=pos.text_document,
            range=t.Range(start=t.Position(line=4, character=4), end=t.Position(line=4, character=4)),
            context=t.CodeActionContext(diagnostics=[]),
        )
    )
    titles = [a.title for a in actions]
    # Bare commands.
    def command_of(a):
        return a.command, a.arguments

    commands = [command_of(a) for a in actions]
    check(
        titles == ["Ask ploke about `retry_delay`", "Edit `retry_delay` with ploke…"],
        f"code actions: {titles}",
    )
    ask = commands[0]
    answer = await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command=ask[0], arguments=ask[1])
    )
    check("100 ms times" in answer["answer"], f"the model's answer: {answer}")
    edit = commands[1]
    args = dict(edit[1][0])
    try:
        await client.workspace_execute_command_async(
            t.ExecuteCommandParams(command=edit[0], arguments=[args])
        )
        check(False, "an edit without a request is refused")
    except JsonRpcException as e:
        check(e.code == -32602 and "request" in e.message, f"InvalidParams: {e}")
    before = (root / "src" / "lib.rs").read_text()
    args["request"] = "make the base retry delay 250 ms"
    done = await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command=edit[0], arguments=[args])
    )
    check(done["files"] == ["src/lib.rs"], f"edited files: {done}")
    for _ in range(200):
        if applied and any("applied in the editor" in m for m in shown):
            break
        await asyncio.sleep(0.05)
    check(len(applied) == 1, f"one workspace/applyEdit: {applied}")
    change = applied[0].edit.document_changes[0]
    check(change.text_document.uri == lib, f"on src/lib.rs: {change.text_document.uri}")
    new_text = change.edits[0].new_text
    check("250 * backoff(attempt)" in new_text and "100 * backoff" not in new_text, new_text)
    rng = change.edits[0].range
    check((rng.start.line, rng.end.line, rng.end.character) == (0, 23, 0), f"whole file: {rng}")
    check((root / "src" / "lib.rs").read_text() == before, "ploke wrote nothing: the editor applies")
    check(any("applied in the editor" in m for m in shown), f"told: {shown}")

    # An unsaved buffer is what the index answers for; closing it falls back to the disk.
    whole = getattr(t, "TextDocumentContentChangeWholeDocument", None) or getattr(
        t, "TextDocumentContentChangeEvent_Type2"
    )
    on_disk = (root / "src" / "lib.rs").read_text()
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            text_document=t.TextDocumentItem(uri=lib, language_id="rust", version=1, text=on_disk)
        )
    )
    client.text_document_did_change(
        t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=lib, version=2),
            content_changes=[whole(text=on_disk + "\npub fn unsaved_helper() -> u8 {\n    7\n}\n")],
        )
    )

    async def finds(name):
        syms = await client.workspace_symbol_async(t.WorkspaceSymbolParams(query=name))
        return any(x.name == name for x in syms)

    for _ in range(200):
        if await finds("unsaved_helper"):
            break
        await asyncio.sleep(0.02)
    check(await finds("unsaved_helper"), "the unsaved function is found")
    check((root / "src" / "lib.rs").read_text() == on_disk, "nothing written to disk")
    helper = await client.text_document_hover_async(
        t.HoverParams(text_document=pos.text_document, position=t.Position(line=24, character=8))
    )
    check(helper and "unsaved_helper" in helper.contents.value, f"hover on the buffer: {helper}")
    # A buffer with broken syntax: the server survives, its last good items stay.
    client.text_document_did_change(
        t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=lib, version=3),
            content_changes=[whole(text=on_disk + "\npub fn unsaved_helper( {\n")],
        )
    )
    await asyncio.sleep(0.3)
    still = await client.workspace_symbol_async(t.WorkspaceSymbolParams(query="retry_delay"))
    check(still and still[0].name == "retry_delay", f"serving after broken syntax: {still}")
    check(await finds("unsaved_helper"), "the last good buffer's items are kept")
    # An edit of a buffer with unsaved changes is refused (the model saw the saved text).
    try:
        await client.workspace_execute_command_async(
            t.ExecuteCommandParams(command=edit[0], arguments=[args])
        )
        check(False, "an edit of a dirty buffer is refused")
    except JsonRpcException as e:
        check("save the file first" in e.message, f"refused: {e}")
    client.text_document_did_close(
        t.DidCloseTextDocumentParams(text_document=t.TextDocumentIdentifier(uri=lib))
    )
    for _ in range(200):
        if not await finds("unsaved_helper"):
            break
        await asyncio.sleep(0.02)
    check(not await finds("unsaved_helper"), "closing the buffer falls back to the disk")

    # Protocol errors: an unknown method; the server keeps serving.
    try:
        await client.protocol.send_request_async("ploke/no-such-method", {})
        check(False, "an unknown method is refused")
    except JsonRpcException as e:
        check(e.code == -32601, f"MethodNotFound, got {e.code}")
    again = await client.workspace_symbol_async(t.WorkspaceSymbolParams(query="Fixed"))
    check(again and again[0].name == "Fixed", f"still serving: {again}")

    await client.shutdown_async(None)
    client.exit(None)
    await asyncio.sleep(0.5)
    await client.stop()
    print("ok")


async def lenses(binary: str, ws: str) -> None:
    """The code lenses of a workspace whose tests reach its functions (tests/lsp.rs writes
    it): callers, then the tests that reach each function."""
    root = pathlib.Path(ws).resolve()
    lib = (root / "src" / "lib.rs").as_uri()
    client = BaseLanguageClient("ploke-test", "1")
    await client.start_io(binary, "lsp", cwd=str(root))
    await client.initialize_async(
        t.InitializeParams(capabilities=t.ClientCapabilities(), root_uri=root.as_uri())
    )
    client.initialized(t.InitializedParams())
    lenses = await client.text_document_code_lens_async(
        t.CodeLensParams(text_document=t.TextDocumentIdentifier(uri=lib))
    )
    titles = {l.range.start.line: l.command.title for l in lenses}
    check(titles.get(0) == "2 callers · 2 tests", f"retry_delay's lens: {titles}")
    check(titles.get(4) == "1 caller · 2 tests", f"backoff's lens: {titles}")
    check(titles.get(8) == "0 callers", f"untested's lens: {titles}")
    await client.shutdown_async(None)
    client.exit(None)
    await asyncio.sleep(0.5)
    await client.stop()
    print("ok")


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[3] == "lenses":
        asyncio.run(lenses(sys.argv[1], sys.argv[2]))
    else:
        asyncio.run(main(sys.argv[1], sys.argv[2]))
