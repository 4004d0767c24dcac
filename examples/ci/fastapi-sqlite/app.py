"""A todo API in FastAPI + SQLite that keeps the ifmatch conflict contract.

Written the way a Python team would write it: integer ids, a `version` column, FastAPI's own
error bodies (`{"detail": ...}`) and its 422 for malformed JSON. The comments mark where the
conflict contract matters; `ifmatch-conformance.toml` beside this file describes the API to the
suite.

Run: `TODOS_DB=/tmp/todos.db uvicorn app:app --port 8000`
"""

import json
import os
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator, Optional

from fastapi import Body, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse

from etags import if_match_passes, if_none_match_matches

DB_PATH = os.environ.get("TODOS_DB", "todos.db")
SERVER_MEMBERS = ("id", "version", "created_at", "updated_at")

app = FastAPI(title="todos")


@contextmanager
def db() -> Iterator[sqlite3.Connection]:
    # One connection per request, in autocommit mode: every statement is its own transaction.
    # `timeout` lets concurrent writers wait for SQLite's write lock instead of failing.
    conn = sqlite3.connect(DB_PATH, timeout=10, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        yield conn
    finally:
        conn.close()


with db() as conn:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS todos ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " version INTEGER NOT NULL,"
        " doc TEXT NOT NULL,"
        " created_at TEXT NOT NULL,"
        " updated_at TEXT NOT NULL)"
    )


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


def etag(row: sqlite3.Row) -> str:
    # A strong ETag from the version column: it changes on every write, and the same version
    # always has the same bytes. `id` is in it so tags of two todos never look alike.
    return f'"{row["id"]}-{row["version"]}"'


def representation(row: sqlite3.Row) -> dict[str, Any]:
    doc = json.loads(row["doc"])
    doc.update({k: row[k] for k in SERVER_MEMBERS})
    return doc


def load(conn: sqlite3.Connection, todo_id: int) -> Optional[sqlite3.Row]:
    return conn.execute("SELECT * FROM todos WHERE id = ?", (todo_id,)).fetchone()


def error(status: int, detail: str, **extra: Any) -> JSONResponse:
    # Error bodies carry no ETag: an ETag describes the todo, never an error message.
    return JSONResponse({"detail": detail, **extra}, status_code=status)


def not_found(todo_id: int) -> JSONResponse:
    return error(404, f"todo {todo_id} does not exist")


def stale(row: sqlite3.Row) -> JSONResponse:
    # 412, and the current ETag in the body so the client can re-read and retry.
    return error(
        412,
        "If-Match does not name the current version of this todo: GET it again, reapply your change, retry",
        current_etag=etag(row),
    )


def stored(doc: dict[str, Any]) -> str:
    # Members the server owns are never taken from the client.
    return json.dumps({k: v for k, v in doc.items() if k not in SERVER_MEMBERS})


def valid(doc: Any) -> Optional[str]:
    if not isinstance(doc, dict):
        return "a todo is a JSON object"
    if not isinstance(doc.get("title"), str):
        return "a todo needs a string member `title`"
    if not isinstance(doc.get("done", False), bool):
        return "`done` is true or false"
    return None


def with_etag(row: sqlite3.Row, status: int = 200, headers: Optional[dict] = None) -> JSONResponse:
    return JSONResponse(
        representation(row), status_code=status, headers={"ETag": etag(row), **(headers or {})}
    )


@app.post("/todos/", status_code=201)
def create(doc: dict[str, Any] = Body(...)):
    if (problem := valid(doc)) is not None:
        return error(422, problem)
    with db() as conn:
        ts = now()
        cur = conn.execute(
            "INSERT INTO todos (version, doc, created_at, updated_at) VALUES (1, ?, ?, ?)",
            (stored(doc), ts, ts),
        )
        row = load(conn, cur.lastrowid)
    return with_etag(row, 201, {"Location": f"/todos/{row['id']}"})


@app.api_route("/todos/{todo_id}", methods=["GET", "HEAD"])
def read(todo_id: int, request: Request, if_none_match: Optional[str] = Header(None)):
    with db() as conn:
        row = load(conn, todo_id)
    if row is None:
        return not_found(todo_id)
    if if_none_match is not None and none_match(if_none_match, etag(row)):
        # 304 carries the ETag (RFC 9110 §15.4.5) and no body.
        return Response(status_code=304, headers={"ETag": etag(row)})
    if request.method == "HEAD":
        return Response(headers={"ETag": etag(row), "Content-Type": "application/json"})
    return with_etag(row)


def none_match(header: str, current: str) -> bool:
    try:
        return if_none_match_matches(header, current)
    except ValueError:
        return False  # a malformed If-None-Match on a read is ignored: answer 200 as without it


def preconditions(row: sqlite3.Row, if_match: Optional[str], if_none_match: Optional[str]):
    """None when the write may go ahead, else the response refusing it (RFC 9110 §13.2.2)."""
    current = etag(row)
    try:
        if if_match is not None and not if_match_passes(if_match, current):
            return stale(row)
        if if_none_match is not None and if_none_match_matches(if_none_match, current):
            # `If-None-Match: *` on an existing todo: create-only, never overwrite.
            return error(412, "If-None-Match: this todo exists and create-only was asked")
    except ValueError as bad:
        return error(400, f"malformed precondition header: {bad}")
    return None


def write(conn: sqlite3.Connection, row: sqlite3.Row, doc: dict[str, Any]):
    # THE line that makes the check and the write one step: the UPDATE only matches the version
    # the preconditions were judged against. Two writers that both passed the If-Match check
    # race here, and only one of them changes a row; the other gets rowcount 0 and a 412.
    cur = conn.execute(
        "UPDATE todos SET doc = ?, version = version + 1, updated_at = ?"
        " WHERE id = ? AND version = ?",
        (stored(doc), now(), row["id"], row["version"]),
    )
    fresh = load(conn, row["id"])
    if cur.rowcount == 0:
        return not_found(row["id"]) if fresh is None else stale(fresh)
    return with_etag(fresh)


@app.put("/todos/{todo_id}")
def replace(
    todo_id: int,
    doc: Any = Body(...),
    if_match: Optional[str] = Header(None),
    if_none_match: Optional[str] = Header(None),
):
    with db() as conn:
        row = load(conn, todo_id)
        # This API creates todos by POST only, so a PUT to a missing todo is 404 whatever its
        # preconditions say (RFC 9110 §13.2.1: they are ignored when the answer is an error anyway).
        if row is None:
            return not_found(todo_id)
        if (refused := preconditions(row, if_match, if_none_match)) is not None:
            return refused
        if (problem := valid(doc)) is not None:
            return error(422, problem)
        return write(conn, row, doc)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: null removes a member, objects merge, everything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@app.patch("/todos/{todo_id}")
def patch(
    todo_id: int,
    request: Request,
    change: Any = Body(...),
    if_match: Optional[str] = Header(None),
    if_none_match: Optional[str] = Header(None),
):
    # FastAPI parses any `*/*+json` body as JSON, so `application/merge-patch+json` arrives here
    # parsed (a body parser that only knew `application/json` would hand us nothing).
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("application/merge-patch+json", "application/json"):
        return error(415, "send the change as application/merge-patch+json (RFC 7396)")
    with db() as conn:
        row = load(conn, todo_id)
        if row is None:
            return not_found(todo_id)
        if (refused := preconditions(row, if_match, if_none_match)) is not None:
            return refused
        doc = merge_patch(json.loads(row["doc"]), change)
        if (problem := valid(doc)) is not None:
            return error(422, problem)
        return write(conn, row, doc)


@app.delete("/todos/{todo_id}")
def delete(
    todo_id: int,
    if_match: Optional[str] = Header(None),
    if_none_match: Optional[str] = Header(None),
):
    with db() as conn:
        row = load(conn, todo_id)
        if row is None:
            return not_found(todo_id)
        if (refused := preconditions(row, if_match, if_none_match)) is not None:
            return refused
        # Same atomic check as `write`: delete only the version that was judged.
        cur = conn.execute(
            "DELETE FROM todos WHERE id = ? AND version = ?", (todo_id, row["version"])
        )
        if cur.rowcount == 0:
            fresh = load(conn, todo_id)
            return not_found(todo_id) if fresh is None else stale(fresh)
    return Response(status_code=204)
