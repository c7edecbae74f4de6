"""Drives `ploke mcp` with the official MCP Python SDK (`mcp` from PyPI) over stdio.

Usage: python mcp_client.py PLOKE_BINARY WORKSPACE [read|edit]

`read` (the default) runs the server read-only; `edit` runs it with `--allow-edits` and
edits, refuses and undoes; `two` runs a writing and a reading server on the same workspace;
`http URL` talks to a server already serving streamable HTTP at URL, with two clients at once.

Checks exact answers on the `workspace_multi` fixture, that bad calls are errors the client
can read, and that the server keeps serving after them. Exits non-zero with the reason on
the first check that fails; prints one `ok NAME` line per check.
"""

import asyncio
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

TOOLS = {
    "search_code",
    "get_context",
    "get_item",
    "callers",
    "callees",
    "implementations",
    "list_module",
    "read_file_range",
    "index_status",
    "impact",
}


def check(cond, what, detail=""):
    if not cond:
        print(f"FAILED {what}: {detail}", flush=True)
        sys.exit(1)
    print(f"ok {what}", flush=True)


def text_of(result):
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def call(session, name, args):
    return await session.call_tool(name, args, read_timeout_seconds=60)


def params_for(binary, workspace, extra):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "PLOKE_EMBED": "off",
        "PLOKE_CONFIG_DIR": os.path.join(workspace, "no-user-config"),
    }
    return StdioServerParameters(command=binary, args=["mcp", workspace, *extra], env=env)


EDIT_TOOLS = {"replace_item", "insert_item", "search_replace", "undo"}


async def edits(binary, workspace):
    lib = os.path.join(workspace, "crates/shape-kit/src/lib.rs")
    before = open(lib, "rb").read()
    async with stdio_client(params_for(binary, workspace, ["--allow-edits"])) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            names = {t.name for t in (await session.list_tools()).tools}
            check(names == TOOLS | EDIT_TOOLS, "--allow-edits adds the edit tools", sorted(names))

            new_area = "pub fn area(t: &Thing) -> u32 {\n    t.size().saturating_mul(t.size())\n}"
            r = await call(session, "replace_item", {"path": "shape_kit::area", "code": new_area})
            t = text_of(r)
            check(not r.is_error and "+    t.size().saturating_mul(t.size())" in t, "replace_item answers with the diff", t)
            check(b"saturating_mul" in open(lib, "rb").read(), "replace_item wrote the file")
            r = await call(session, "get_item", {"path": "shape_kit::area"})
            check("saturating_mul" in text_of(r), "the index has the edit at once", text_of(r))

            refused = [
                ("search_replace", {"file": "../../../../etc/hostname", "search": "a", "replace": "b"}, "outside the workspace"),
                ("search_replace", {"file": "Cargo.toml", "search": "[workspace]", "replace": "[workspace]\n# x"}, "a manifest"),
                ("search_replace", {"file": "crates/app/src/lib.rs", "search": "pub fn", "replace": "fn"}, "ambiguous text"),
                ("replace_item", {"path": "shape_kit::geometry::Thing::size", "code": "pub fn size(&self) -> u32 { self.size } } impl Drop for Thing { fn drop(&mut self) {}"}, "more than one item"),
                ("replace_item", {"path": "shape_kit::nope", "code": "pub fn nope() {}"}, "an unknown item"),
            ]
            for name, args, why in refused:
                snapshot = {p: open(os.path.join(workspace, p), "rb").read() for p in ["Cargo.toml", "crates/app/src/lib.rs", "crates/shape-kit/src/geometry.rs"]}
                r = await call(session, name, args)
                check(r.is_error, f"{name} refuses {why}", text_of(r))
                for p, b in snapshot.items():
                    check(open(os.path.join(workspace, p), "rb").read() == b, f"nothing written for {why} ({p})")

            # A file changed on disk behind the server's back: the edit lands on what it holds now.
            geo = os.path.join(workspace, "crates/shape-kit/src/geometry.rs")
            with open(geo, "a") as f:
                f.write("\npub fn extra() -> u32 {\n    7\n}\n")
            r = await call(
                session,
                "insert_item",
                {"parent": "impl Thing", "code": "pub fn double(&self) -> u32 {\n    self.size * 2\n}"},
            )
            t = text_of(r)
            check(not r.is_error and "double" in t, "insert_item on a file changed behind the server", t)
            g = open(geo).read()
            check("pub fn extra()" in g and "pub fn double(&self)" in g, "both the outside change and the edit are in the file", g)

            r = await call(session, "undo", {})
            check(not r.is_error, "undo the insert", text_of(r))
            r = await call(session, "undo", {})
            check(not r.is_error, "undo the replace", text_of(r))
            check(open(lib, "rb").read() == before, "undo restores lib.rs byte for byte")
            r = await call(session, "get_item", {"path": "shape_kit::area"})
            check("saturating_mul" not in text_of(r), "the index follows the undo", text_of(r))


async def http_client(url, who):
    async with streamable_http_client(url) as (read, write, *_):
        async with ClientSession(read, write) as session:
            await session.initialize()
            names = {t.name for t in (await session.list_tools()).tools}
            check(names == TOOLS, f"{who}: every tool over HTTP", sorted(names))
            for _ in range(5):
                r = await call(session, "callers", {"path": "shape_kit::geometry::Thing::new"})
                t = text_of(r)
                check(not r.is_error and "app::build" in t and "app::total_area" in t, f"{who}: callers over HTTP", t)
                r = await call(session, "search_code", {"query": "total area", "k": 3})
                check("app::total_area" in text_of(r), f"{who}: search over HTTP", text_of(r))


async def http(url):
    await asyncio.gather(http_client(url, "client 1"), http_client(url, "client 2"))


async def two(binary, workspace):
    """A writing server and a reading one on the same workspace (as two agents would)."""
    async with stdio_client(params_for(binary, workspace, ["--allow-edits"])) as (r1, w1):
        async with ClientSession(r1, w1) as writer:
            await writer.initialize()
            async with stdio_client(params_for(binary, workspace, [])) as (r2, w2):
                async with ClientSession(r2, w2) as reader:
                    await reader.initialize()
                    r = await call(reader, "index_status", {})
                    check(not r.is_error, "the second server serves the same index", text_of(r))
                    code = "pub fn area(t: &Thing) -> u32 {\n    t.size().pow(2)\n}"
                    r = await call(writer, "replace_item", {"path": "shape_kit::area", "code": code})
                    check(not r.is_error, "the first server edits", text_of(r))
                    r = await call(reader, "get_item", {"path": "shape_kit::area"})
                    check("pow(2)" in text_of(r), "the second server answers with the edit", text_of(r))
                    try:
                        r = await call(reader, "replace_item", {"path": "shape_kit::area", "code": code})
                        refused = r.is_error
                    except MCPError:
                        refused = True
                    check(refused, "the reading server has no edit tools")
                    r = await call(writer, "undo", {})
                    check(not r.is_error, "the first server undoes", text_of(r))
                    r = await call(reader, "get_item", {"path": "shape_kit::area"})
                    check("pow(2)" not in text_of(r), "the second server follows the undo", text_of(r))


async def real(binary, workspace):
    """Every read tool on a real crate (tokio 1.38.0), answers checked against its source."""
    async with stdio_client(params_for(binary, workspace, [])) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            b = "tokio::runtime::builder::Builder"
            r = await call(session, "search_code", {"query": "enable the IO driver on the runtime builder", "k": 3})
            check(b in text_of(r), "tokio: search_code finds the runtime builder", text_of(r))
            r = await call(session, "get_item", {"path": f"{b}::enable_all"})
            check("self.enable_io();" in text_of(r), "tokio: get_item", text_of(r)[:300])
            r = await call(session, "callers", {"path": f"{b}::enable_io"})
            check(f"{b}::enable_all" in text_of(r), "tokio: callers of enable_io", text_of(r))
            r = await call(session, "callees", {"path": f"{b}::enable_all"})
            check("enable_io" in text_of(r) and "enable_time" in text_of(r), "tokio: callees of enable_all", text_of(r))
            r = await call(session, "implementations", {"path": "tokio::io::async_read::AsyncRead"})
            check("impl AsyncRead for TcpStream" in text_of(r), "tokio: implementations of AsyncRead", text_of(r)[:300])
            r = await call(session, "list_module", {"path": "tokio::runtime::builder"})
            check("Builder" in text_of(r), "tokio: list_module", text_of(r)[:300])
            r = await call(session, "read_file_range", {"file": "src/runtime/builder.rs", "start_line": 335, "end_line": 346})
            check("pub fn enable_all(&mut self)" in text_of(r), "tokio: read_file_range", text_of(r))
            r = await call(session, "get_context", {"request": "let users configure the keep-alive of blocking pool threads", "budget": 3000})
            check(not r.is_error and "blocking" in text_of(r), "tokio: get_context", text_of(r)[:300])
            r = await call(session, "index_status", {})
            check('"items"' in text_of(r), "tokio: index_status", text_of(r))
            r = await call(session, "impact", {"path": "tokio::sync::batch_semaphore::Semaphore::acquire"})
            t = text_of(r)
            check(
                not r.is_error
                and "tokio::sync::mutex::Mutex::lock" in t
                and "tokio::sync::rwlock::RwLock::write" in t
                and "tests/sync_rwlock.rs" in t,
                "tokio: impact of the internal semaphore's acquire",
                t[:400],
            )


async def main(binary, workspace):
    logs = []

    async def on_log(params):
        logs.append(params)

    async with stdio_client(params_for(binary, workspace, [])) as (read, write):
        async with ClientSession(read, write, logging_callback=on_log) as session:
            init = await session.initialize()
            check(init.server_info.name == "ploke", "server names itself", init.server_info)

            tools = (await session.list_tools()).tools
            names = {t.name for t in tools}
            check(names == TOOLS, "every tool is listed", sorted(names))
            for t in tools:
                check(
                    len(t.description or "") > 40 and t.input_schema.get("type") == "object",
                    f"{t.name} has a description and an object schema",
                    t,
                )

            r = await call(session, "search_code", {"query": "total area of the things", "k": 5})
            top = text_of(r).splitlines()
            check(not r.is_error and top, "search_code answers", text_of(r))
            check(
                any("app::total_area" in line for line in top[:3]),
                "search_code ranks app::total_area in its top 3",
                top,
            )
            check(
                any("crates/app/src/lib.rs:9-11" in line for line in top),
                "search_code gives workspace-relative file:lines",
                top,
            )

            r = await call(session, "search_code", {"query": "Thing", "k": 10, "scope": "app"})
            lines = text_of(r).splitlines()
            check(lines and all(" app::" in l for l in lines), "search_code keeps to its scope", lines)
            r = await call(session, "search_code", {"query": "total area", "k": 3, "mode": "lexical"})
            check("app::total_area" in text_of(r), "search_code in lexical mode", text_of(r))
            r = await call(session, "search_code", {"query": "total area", "mode": "psychic"})
            check(r.is_error and "hybrid, lexical or vector" in text_of(r), "an unknown mode is a tool error naming the modes", text_of(r))

            check(
                any("pub fn total_area() -> u32" in line for line in top),
                "search_code shows each item's signature",
                top,
            )

            r = await call(session, "get_item", {"path": "shape_kit::geometry::Thing::new"})
            t = text_of(r)
            check(not r.is_error and "Thing { size }" in t, "get_item returns the source", t)
            check(
                "callers (3): " in t and "app::build" in t and "app::total_area" in t and "demo::main" in t,
                "get_item names the item's relations",
                t,
            )

            r = await call(session, "callers", {"path": "shape_kit::geometry::Thing::new"})
            t = text_of(r)
            check(
                not r.is_error and "app::build" in t and "app::total_area" in t,
                "callers lists both callers across the crate boundary",
                t,
            )

            r = await call(session, "callees", {"path": "app::total_area"})
            t = text_of(r)
            check(
                not r.is_error and "shape_kit::area" in t and "Thing::new" in t,
                "callees lists what total_area calls",
                t,
            )

            r = await call(session, "implementations", {"path": "shape_kit::geometry::Thing"})
            t = text_of(r)
            check(not r.is_error and "impl Thing" in t, "implementations finds impl Thing", t)

            r = await call(session, "list_module", {"path": "shape_kit"})
            t = text_of(r)
            check(not r.is_error and "area" in t and "geometry" in t, "list_module outlines", t)

            r = await call(
                session,
                "read_file_range",
                {"file": "crates/shape-kit/src/geometry.rs", "start_line": 11, "end_line": 13},
            )
            t = text_of(r)
            check(not r.is_error and "pub fn size(&self)" in t, "read_file_range reads lines", t)

            r = await call(session, "get_context", {"request": "make the area computation overflow-safe", "budget": 2000})
            t = text_of(r)
            check(not r.is_error and "shape_kit::area" in t, "get_context packs the area function", t[:400])

            r = await call(session, "index_status", {})
            t = text_of(r)
            check(not r.is_error and '"generation"' in t and '"items"' in t, "index_status", t)

            r = await call(session, "impact", {"path": "shape_kit::area"})
            t = text_of(r)
            check(not r.is_error and '"changed"' in t and "shape_kit::area" in t, "impact names the item", t[:400])

            # Bad calls: tool errors or protocol errors, never a dead server.
            r = await call(session, "get_item", {"path": "shape_kit::no_such_thing"})
            check(r.is_error, "an unknown item is a tool error", text_of(r))
            r = await call(session, "get_item", {"path": "shape_kit::geometry::Thing::sise"})
            check(
                r.is_error and "did you mean" in text_of(r) and "shape_kit::geometry::Thing" in text_of(r),
                "an unknown item suggests near ones",
                text_of(r),
            )
            r = await call(
                session,
                "read_file_range",
                {"file": "../../../etc/passwd", "start_line": 1, "end_line": 3},
            )
            check(r.is_error and "root:" not in text_of(r), "a path outside the workspace is refused", text_of(r))
            r = await call(session, "read_file_range", {"file": "Cargo.toml", "start_line": 1, "end_line": 3})
            check(r.is_error, "a file the index does not hold is refused", text_of(r))
            for name, args in [
                ("search_code", {"query": "x", "k": "ten"}),
                ("get_item", {}),
                ("no_such_tool", {}),
                ("search_code", {"query": "x" * 200_000}),
            ]:
                try:
                    r = await call(session, name, args)
                    ok = r.is_error or name == "search_code" and "k" not in args
                except MCPError:
                    ok = True
                check(ok, f"bad call {name} {str(args)[:40]} is an error")

            r = await call(session, "search_code", {"query": "Thing size", "k": 3})
            check(not r.is_error and "Thing" in text_of(r), "the server still serves after bad calls")

            # The index is live: a saved file reaches the next answer, and the client hears of
            # the update as a log message.
            with open(os.path.join(workspace, "crates/app/src/lib.rs"), "a") as f:
                f.write("\npub fn frobnicate_widgets_zq() -> u32 {\n    7\n}\n")
            found = False
            for _ in range(200):
                r = await call(session, "search_code", {"query": "frobnicate_widgets_zq", "k": 3})
                if "app::frobnicate_widgets_zq" in text_of(r):
                    found = True
                    break
                await asyncio.sleep(0.05)
            check(found, "a saved file reaches search_code", text_of(r))
            for _ in range(100):
                if any(isinstance(l.data, dict) and "generation" in l.data for l in logs):
                    break
                await asyncio.sleep(0.05)
            check(
                any(l.logger == "ploke" and isinstance(l.data, dict) and "generation" in l.data for l in logs),
                "the update is sent as a log message",
                [l.data for l in logs][:5],
            )


if __name__ == "__main__":
    mode = sys.argv[3] if len(sys.argv) > 3 else "read"
    if mode == "http":
        asyncio.run(http(sys.argv[4]))
    else:
        run = {"read": main, "edit": edits, "two": two, "real": real}[mode]
        asyncio.run(run(sys.argv[1], sys.argv[2]))
    print(f"ok all {mode} checks", flush=True)
