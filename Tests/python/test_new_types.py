"""Milvus 2.6's newer field types through pymilvus, unchanged, over gRPC against the real
binary: Int8Vector rows as numpy int8 arrays, searched with every metric and checked against a
brute force computed here with numpy."""

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient, MilvusException


@pytest.fixture(scope="module")
def client(server):
    c = MilvusClient(server.uri, timeout=30)
    yield c
    c.close()


def brute_force(metric, q, xs, k):
    q = q.astype(np.float64)
    xs = xs.astype(np.float64)
    if metric == "L2":
        scores = ((xs - q) ** 2).sum(axis=1)
        order = np.argsort(scores, kind="stable")
    else:
        scores = xs @ q
        if metric == "COSINE":
            norms = np.linalg.norm(xs, axis=1) * np.linalg.norm(q)
            scores = np.where(norms > 0, scores / np.where(norms > 0, norms, 1), 0)
        order = np.argsort(-scores, kind="stable")
    return scores, order[:k]


@pytest.mark.parametrize("metric", ["L2", "IP", "COSINE"])
def test_int8_vector_search_matches_brute_force(client, metric):
    name = f"int8_{metric.lower()}"
    dim = 24
    rng = np.random.default_rng(7)
    xs = rng.integers(-128, 128, size=(600, dim), dtype=np.int8)
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.INT8_VECTOR, dim=dim)
    index = client.prepare_index_params()
    index.add_index("v", index_type="HNSW", metric_type=metric, params={"M": 16, "efConstruction": 200})
    client.create_collection(name, schema=schema, index_params=index)
    described = client.describe_collection(name)
    field = next(f for f in described["fields"] if f["name"] == "v")
    assert field["type"] == DataType.INT8_VECTOR and field["params"]["dim"] == dim
    assert client.insert(name, [{"id": i, "v": xs[i]} for i in range(len(xs))])["insert_count"] == len(xs)

    queries = rng.integers(-128, 128, size=(5, dim), dtype=np.int8)
    for phase in ("growing", "indexed"):
        if phase == "indexed":
            client.flush(name)
        hits = client.search(name, data=list(queries), anns_field="v", limit=10, search_params={"params": {"ef": 600}})
        for q, row in zip(queries, hits):
            scores, best = brute_force(metric, q, xs, 10)
            got = [h["id"] for h in row]
            for h in row:
                assert h["distance"] == pytest.approx(scores[h["id"]], rel=1e-4, abs=1e-3)
            assert len(set(got) & set(best.tolist())) >= 9, (phase, got, best.tolist())

    got = client.query(name, filter="id in [3, 4]", output_fields=["v"])
    assert len(got) == 2
    for r in got:
        # pymilvus hands an int8 vector back as its raw bytes (in a one-element list).
        value = r["v"][0] if isinstance(r["v"], list) else r["v"]
        assert np.array_equal(np.frombuffer(value, dtype=np.int8), xs[r["id"]])
    client.drop_collection(name)


def test_int8_vector_errors(client):
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.INT8_VECTOR, dim=4)
    index = client.prepare_index_params()
    index.add_index("v", index_type="IVF_FLAT", metric_type="L2", params={"nlist": 4})
    with pytest.raises(MilvusException) as e:
        client.create_collection("int8_bad", schema=schema, index_params=index)
    assert e.value.code == 1100 and "IVF_FLAT" in e.value.message
    client.create_collection("int8_err", schema=schema)
    with pytest.raises(MilvusException):
        client.insert("int8_err", [{"id": 1, "v": np.zeros(3, dtype=np.int8)}])
    client.drop_collection("int8_err")
