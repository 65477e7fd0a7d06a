#!/usr/bin/env python3
"""Parses EQL queries with Elastic's own parser (the `eql` package from PyPI).

Reads a JSON array of {"id", "query", optional "min_stack_version"} on stdin and prints a JSON array
of {"id", "ok", "error"?, "fields"?} on stdout, one entry per query in input order. Exit status 0
when every query parses, 1 when any does not, 2 when the input itself is unusable.

With --evaluate, each item also carries "events": ECS documents, each with an "_id". The query is
run over them with the package's own Python engine (the event's type is its first event.category,
its time its @timestamp) and the entry gains "matches": the _ids of the events it output, in order
(a sequence outputs each of its events). This is a behaviour check on sample data, not a model of
Elasticsearch's search; the rules run in Elasticsearch.

The parser runs the way Elastic's detection-rules repository runs it for its rules: Elasticsearch
syntax (`:` and `like~`, no Endgame-only constructs), unknown functions tolerated, and the language
features that exist in the target stack switched on.
"""
import json
import sys
from datetime import datetime

import eql

# Elasticsearch version in which each optional EQL feature appeared (per Elastic's release notes).
FEATURES = {
    "allow_runs": (7, 16, 0),
    "elasticsearch_validate_optional_fields": (7, 16, 0),
    "allow_sample": (8, 6, 0),
    "allow_negation": (8, 9, 0),
}
DEFAULT_STACK = "8.14.0"


def stack_version(text):
    parts = [int(p) for p in str(text).split(".")[:3]]
    return tuple(parts + [0] * (3 - len(parts)))


def parser_config(min_stack_version):
    config = eql.parser.ParserConfig()
    version = stack_version(min_stack_version)
    for feature, since in FEATURES.items():
        if version >= since:
            config.context[feature] = True
    return config


def check(item):
    query = item.get("query")
    if not isinstance(query, str):
        return {"id": item.get("id"), "ok": False, "error": "no query string"}
    try:
        with eql.parser.elasticsearch_syntax, eql.parser.ignore_missing_functions, parser_config(item.get("min_stack_version", DEFAULT_STACK)):
            ast = eql.parse_query(query)
    except eql.EqlError as err:
        return {"id": item.get("id"), "ok": False, "error": str(err)}
    fields = sorted({str(node).lstrip("?") for node in ast if isinstance(node, eql.ast.Field)})
    return {"id": item.get("id"), "ok": True, "fields": fields}


def event_of(doc):
    """An eql Event from an ECS document: type from event.category, time in ms from @timestamp."""
    categories = (doc.get("event") or {}).get("category") or ["any"]
    category = categories[0] if isinstance(categories, list) else categories
    millis = int(datetime.fromisoformat(doc["@timestamp"].replace("Z", "+00:00")).timestamp() * 1000)
    return eql.Event(category, millis, doc)


def evaluate(item):
    result = check(item)
    if not result["ok"]:
        return result
    with eql.parser.elasticsearch_syntax, eql.parser.ignore_missing_functions, parser_config(item.get("min_stack_version", DEFAULT_STACK)):
        query = eql.parse_query(item["query"])
    events = sorted((event_of(doc) for doc in item.get("events", [])), key=lambda e: e.time)
    matches = []
    # flatten: a sequence's events reach the hook one by one, as they would appear in the results.
    engine = eql.PythonEngine({"time_unit": 1000, "flatten": True})
    engine.add_query(query)
    engine.add_output_hook(lambda event: matches.append(event.data.get("_id")))
    engine.stream_events(events)
    engine.finalize()
    result["matches"] = matches
    return result


def main():
    run = evaluate if "--evaluate" in sys.argv[1:] else check
    try:
        items = json.load(sys.stdin)
    except ValueError as err:
        print(f"eql_check: input is not JSON: {err}", file=sys.stderr)
        return 2
    if not isinstance(items, list):
        print("eql_check: input must be a JSON array of {id, query}", file=sys.stderr)
        return 2
    results = [run(item if isinstance(item, dict) else {}) for item in items]
    json.dump(results, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
