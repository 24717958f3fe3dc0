"""The REST v2 API from Python's `requests`, as curl scripts and REST clients use it: the
harness's own check that the real binary starts and answers, before the gRPC tests build on it."""

import requests


def call(server, route, body):
    r = requests.post(f"{server.uri}/v2/vectordb/{route}", json=body, timeout=30)
    r.raise_for_status()
    return r.json()


def test_quick_setup_insert_search(server):
    assert call(server, "collections/create", {"collectionName": "py_smoke", "dimension": 4})["code"] == 0
    rows = [{"id": i, "vector": [float(i), 0.0, 0.0, 1.0]} for i in range(10)]
    inserted = call(server, "entities/insert", {"collectionName": "py_smoke", "data": rows})
    assert inserted["code"] == 0 and inserted["data"]["insertCount"] == 10
    found = call(server, "entities/search", {"collectionName": "py_smoke", "data": [[3.0, 0.0, 0.0, 1.0]], "limit": 3})
    assert found["code"] == 0
    assert found["data"][0]["id"] == 3


def test_unknown_collection_is_milvus_error_100(server):
    answer = call(server, "collections/describe", {"collectionName": "nope"})
    assert answer["code"] == 100
    assert "nope" in answer["message"]
