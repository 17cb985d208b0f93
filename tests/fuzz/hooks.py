"""schemathesis hooks for .ci/fuzz.sh: what "no failure" means for testgraph beyond the built-in
checks, and how to write the GraphQL scalars schemathesis does not know.

Loaded with SCHEMATHESIS_HOOKS=hooks (this directory on PYTHONPATH).
"""

import json

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

# Words that only an internal failure would put in an answer: the database driver's and the
# runtime's own messages, which every edge must log and reduce to its API's generic sentence.
LEAKS = ("sqlx", "sqlite", "postgres", "pg_", "dberr", "sea_orm", "sea-orm", "panicked",
         "thread '", "backtrace", "stack backtrace", "src/", ".rs:", "connection refused",
         "pool timed out", "syntax error at or near", "no such table", "no such column")


def _text(response):
    try:
        return response.text or ""
    except Exception:  # a body that is not text cannot leak a message either
        return ""


@schemathesis.check
def no_internal_message(ctx, response, case):
    """No answer of any status carries an internal message."""
    lowered = _text(response).lower()
    for word in LEAKS:
        if word in lowered:
            raise AssertionError("the answer leaks an internal message (%r): %s"
                                 % (word, _text(response)[:300]))


@schemathesis.check
def graphql_errors_are_the_callers(ctx, response, case):
    """GraphQL: no 5xx, and every error is one a caller can act on: it has a code, and the code
    is not an internal failure's. (schemathesis's own not_a_server_error counts every GraphQL
    error, a NOT_FOUND or a BAD_USER_INPUT included, as a failure; those are correct answers.)"""
    if response.status_code >= 500:
        raise AssertionError("HTTP %d: %s" % (response.status_code, _text(response)[:300]))
    try:
        doc = json.loads(_text(response))
    except ValueError:
        raise AssertionError("not JSON: %s" % _text(response)[:300])
    for err in (doc.get("errors") or []) if isinstance(doc, dict) else []:
        code = (err.get("extensions") or {}).get("code")
        if not code:
            raise AssertionError("an error without a code: %s" % err)
        if code in ("INTERNAL_SERVER_ERROR", "INTERNAL"):
            raise AssertionError("an internal failure: %s" % err)


# testgraph's JSON scalar (XPRESSO's free-form objects): any JSON value; a string literal is one.
schemathesis.graphql.scalar(
    "JSON", st.sampled_from(["{}", "x", "[1, 2]", ""]).map(nodes.String))
