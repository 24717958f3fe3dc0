"""Milvus's own quickstarts, as a newcomer runs them: pymilvus's MilvusClient quickstart and the
ORM hello_milvus, unchanged but for the address."""

import random

import numpy as np
from pymilvus import Collection, CollectionSchema, DataType, FieldSchema, MilvusClient, connections, utility


def test_milvus_client_quickstart(server):
    client = MilvusClient(server.uri)
    if client.has_collection(collection_name="demo_collection"):
        client.drop_collection(collection_name="demo_collection")
    client.create_collection(collection_name="demo_collection", dimension=768)
    docs = [
        "Artificial intelligence was founded as an academic discipline in 1956.",
        "Alan Turing was the first person to conduct substantial research in AI.",
        "Born in Maida Vale, London, Turing was raised in southern England.",
    ]
    vectors = [[random.uniform(-1, 1) for _ in range(768)] for _ in docs]
    data = [{"id": i, "vector": vectors[i], "text": docs[i], "subject": "history"} for i in range(len(vectors))]
    res = client.insert(collection_name="demo_collection", data=data)
    assert res["insert_count"] == 3
    res = client.search(collection_name="demo_collection", data=[vectors[0]], limit=2, output_fields=["text", "subject"])
    assert res[0][0]["id"] == 0 and res[0][0]["entity"]["subject"] == "history"
    res = client.search(
        collection_name="demo_collection", data=[vectors[1]], filter="subject == 'history'", limit=2, output_fields=["text", "subject"])
    assert len(res[0]) == 2
    res = client.query(collection_name="demo_collection", filter="subject == 'history'", output_fields=["text", "subject"])
    assert len(res) == 3
    res = client.query(collection_name="demo_collection", ids=[0, 2], output_fields=["vector", "text", "subject"])
    assert sorted(r["id"] for r in res) == [0, 2]
    res = client.delete(collection_name="demo_collection", ids=[0, 2])
    res = client.delete(collection_name="demo_collection", filter="subject == 'biology'")
    assert client.query(collection_name="demo_collection", filter="", output_fields=["count(*)"])[0]["count(*)"] == 1
    client.drop_collection(collection_name="demo_collection")


def test_orm_hello_milvus(server):
    connections.connect("default", host="127.0.0.1", port=str(server.port))
    try:
        if utility.has_collection("hello_milvus"):
            utility.drop_collection("hello_milvus")
        fields = [
            FieldSchema(name="pk", dtype=DataType.VARCHAR, is_primary=True, auto_id=False, max_length=100),
            FieldSchema(name="random", dtype=DataType.DOUBLE),
            FieldSchema(name="embeddings", dtype=DataType.FLOAT_VECTOR, dim=8),
        ]
        schema = CollectionSchema(fields, "hello_milvus is the simplest demo to introduce the APIs")
        hello_milvus = Collection("hello_milvus", schema, consistency_level="Strong")
        rng = np.random.default_rng(seed=19530)
        entities = [[str(i) for i in range(3000)], rng.random(3000).tolist(), rng.random((3000, 8))]
        insert_result = hello_milvus.insert(entities)
        assert len(insert_result.primary_keys) == 3000
        hello_milvus.flush()
        assert hello_milvus.num_entities == 3000
        index = {"index_type": "IVF_FLAT", "metric_type": "L2", "params": {"nlist": 128}}
        hello_milvus.create_index("embeddings", index)
        hello_milvus.load()
        vectors_to_search = entities[-1][-2:]
        search_params = {"metric_type": "L2", "params": {"nprobe": 10}}
        result = hello_milvus.search(vectors_to_search, "embeddings", search_params, limit=3, output_fields=["random"])
        assert [hits[0].id for hits in result] == ["2998", "2999"]
        result = hello_milvus.query(expr="random > 0.5", output_fields=["random", "embeddings"])
        assert result and all(r["random"] > 0.5 for r in result)
        r2 = hello_milvus.query(expr="random > 0.5", output_fields=["random", "embeddings"], limit=4)
        assert len(r2) == 4
        result = hello_milvus.search(vectors_to_search, "embeddings", search_params, limit=3, expr="random > 0.5", output_fields=["random"])
        assert all(hit.entity.get("random") > 0.5 for hits in result for hit in hits)
        ids = insert_result.primary_keys
        expr = f'pk in ["{ids[0]}" , "{ids[1]}"]'
        hello_milvus.delete(expr)
        assert hello_milvus.query(expr=expr, output_fields=["random", "embeddings"]) == []
        utility.drop_collection("hello_milvus")
    finally:
        connections.disconnect("default")
