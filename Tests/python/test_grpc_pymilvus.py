"""pymilvus, unchanged, against the real binary over gRPC on the REST port: MilvusClient and
the ORM, every data type Elanus stores, reads and writes, errors with Milvus's codes."""

import random
import struct

import numpy as np
import pytest
from pymilvus import (
    Collection,
    CollectionSchema,
    DataType,
    FieldSchema,
    MilvusClient,
    MilvusException,
    connections,
    utility,
)


@pytest.fixture(scope="module")
def client(server):
    c = MilvusClient(server.uri, timeout=30)
    yield c
    c.close()


def vec(dim, seed):
    rng = random.Random(seed)
    return [rng.random() for _ in range(dim)]


def test_connect_version_and_health(client):
    assert client.get_server_version().startswith("v2.6")
    assert client.list_databases() == ["default"]


def test_quick_setup_round_trip(client):
    client.create_collection("quick", dimension=8, metric_type="L2")
    assert client.has_collection("quick")
    assert "quick" in client.list_collections()
    described = client.describe_collection("quick")
    assert described["enable_dynamic_field"] is True
    assert [f["name"] for f in described["fields"]] == ["id", "vector"]
    rows = [{"id": i, "vector": vec(8, i), "color": "red" if i % 2 else "blue", "n": i} for i in range(200)]
    assert client.insert("quick", rows)["insert_count"] == 200
    hits = client.search("quick", data=[rows[7]["vector"]], limit=5, output_fields=["color", "n"])
    assert hits[0][0]["id"] == 7
    assert hits[0][0]["distance"] == pytest.approx(0.0, abs=1e-5)
    assert hits[0][0]["entity"] == {"color": "red", "n": 7}
    filtered = client.search("quick", data=[rows[7]["vector"]], limit=5, filter='color == "blue"')
    assert all(hit["id"] % 2 == 0 for hit in filtered[0])
    got = client.query("quick", filter="id in [3, 4]", output_fields=["id", "n", "color"])
    assert sorted((r["id"], r["n"], r["color"]) for r in got) == [(3, 3, "red"), (4, 4, "blue")]
    assert client.query("quick", filter="", output_fields=["count(*)"])[0]["count(*)"] == 200
    assert client.get(collection_name="quick", ids=[5])[0]["n"] == 5
    assert client.delete("quick", ids=[3, 4])["delete_count"] == 2
    assert client.query("quick", filter="id in [3, 4]") == []
    client.upsert("quick", [{"id": 5, "vector": vec(8, 5), "color": "green", "n": 50}])
    assert client.query("quick", filter="id == 5", output_fields=["n", "color"])[0]["n"] == 50
    assert client.get_collection_stats("quick")["row_count"] >= 197
    client.drop_collection("quick")
    assert not client.has_collection("quick")


def test_schema_with_every_stored_type(client):
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=32)
    schema.add_field("b", DataType.BOOL)
    schema.add_field("i8", DataType.INT8)
    schema.add_field("i16", DataType.INT16, nullable=True)
    schema.add_field("i32", DataType.INT32, default_value=7)
    schema.add_field("f", DataType.FLOAT)
    schema.add_field("d", DataType.DOUBLE)
    schema.add_field("s", DataType.VARCHAR, max_length=64, nullable=True)
    schema.add_field("j", DataType.JSON)
    schema.add_field("arr", DataType.ARRAY, element_type=DataType.INT64, max_capacity=4)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=4)
    schema.add_field("half", DataType.FLOAT16_VECTOR, dim=4)
    schema.add_field("bhalf", DataType.BFLOAT16_VECTOR, dim=4)
    schema.add_field("bits", DataType.BINARY_VECTOR, dim=16)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    index = client.prepare_index_params()
    index.add_index("dense", index_type="HNSW", metric_type="COSINE", params={"M": 8, "efConstruction": 64})
    index.add_index("half", index_type="FLAT", metric_type="L2")
    index.add_index("bhalf", index_type="FLAT", metric_type="IP")
    index.add_index("bits", index_type="BIN_FLAT", metric_type="HAMMING")
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    client.create_collection("typed", schema=schema, index_params=index)
    rows = []
    for i in range(30):
        rows.append({
            "pk": f"k{i}", "b": i % 2 == 0, "i8": i - 10, "i16": None if i % 3 == 0 else i * 100,
            **({} if i % 5 == 0 else {"i32": i}), "f": i / 4, "d": i / 8, "s": None if i % 4 == 0 else f"s{i}",
            "j": {"i": i, "tags": ["a", "b"][: i % 3]}, "arr": list(range(i % 5)),
            "dense": vec(4, i), "half": np.array(vec(4, i + 100), dtype=np.float16),
            "bhalf": np.array(vec(4, i + 200), dtype=np.float32).astype("float32"),
            "bits": bytes([i, 255 - i]), "sparse": {i: 1.0, i + 40: 0.5},
        })
    # bfloat16 takes numpy arrays in pymilvus only through ml_dtypes; send raw bytes instead.
    for r in rows:
        f32 = np.asarray(r["bhalf"], dtype=np.float32)
        r["bhalf"] = (f32.view(np.uint32) >> 16).astype(np.uint16).tobytes()
    assert client.insert("typed", rows)["insert_count"] == 30
    got = client.query("typed", filter='pk in ["k0", "k3", "k6", "k7"]', output_fields=["*"])
    by = {r["pk"]: r for r in got}
    assert by["k0"]["i16"] is None and by["k0"]["s"] is None and by["k0"]["i32"] == 7
    assert by["k3"]["s"] == "s3" and by["k3"]["i32"] == 3
    assert by["k6"]["i16"] is None and by["k3"]["i16"] is None and by["k6"]["b"] is True and by["k6"]["i8"] == -4
    assert by["k7"]["i16"] == 700 and by["k7"]["s"] == "s7" and by["k7"]["f"] == pytest.approx(1.75)
    assert by["k6"]["j"] == {"i": 6, "tags": []}
    assert list(by["k3"]["arr"]) == [0, 1, 2]
    assert by["k3"]["dense"] == pytest.approx(vec(4, 3), rel=1e-6)
    assert by["k3"]["sparse"] == {3: 1.0, 43: 0.5}
    assert by["k3"]["bits"] == [bytes([3, 252])] or bytes(by["k3"]["bits"][0]) == bytes([3, 252])
    hits = client.search("typed", data=[vec(4, 9)], anns_field="dense", limit=1, output_fields=["pk"])
    assert hits[0][0]["entity"]["pk"] == "k9"
    hits = client.search("typed", data=[bytes([9, 246])], anns_field="bits", limit=1, search_params={"metric_type": "HAMMING"})
    assert hits[0][0]["pk"] == "k9" and hits[0][0]["distance"] == 0
    hits = client.search("typed", data=[{9: 1.0}], anns_field="sparse", limit=1)
    assert hits[0][0]["pk"] == "k9"
    hits = client.search("typed", data=[np.array(vec(4, 109), dtype=np.float16)], anns_field="half", limit=1)
    assert hits[0][0]["pk"] == "k9"
    assert client.query("typed", filter="json_contains(j['tags'], 'b')", output_fields=["count(*)"])[0]["count(*)"] == 10
    assert client.query("typed", filter="array_length(arr) == 4", output_fields=["count(*)"])[0]["count(*)"] == 6
    client.drop_collection("typed")


def test_indexes_partitions_aliases_and_flush(client):
    client.create_collection("ddl", dimension=4, auto_id=True)
    assert sorted(client.list_indexes("ddl")) == ["vector"]
    info = client.describe_index("ddl", "vector")
    assert info["field_name"] == "vector" and info["state"] == "Finished"
    client.create_partition("ddl", "p1")
    assert client.has_partition("ddl", "p1")
    assert set(client.list_partitions("ddl")) == {"_default", "p1"}
    res = client.insert("ddl", [{"vector": vec(4, i), "tag": i} for i in range(10)], partition_name="p1")
    assert len(res["ids"]) == 10
    client.flush("ddl")
    assert client.get_partition_stats("ddl", "p1")["row_count"] == 10
    client.create_alias("ddl", "ddl_alias")
    assert client.describe_alias("ddl_alias")["collection_name"] == "ddl"
    assert "ddl_alias" in client.list_aliases("ddl")["aliases"]
    assert client.query("ddl_alias", filter="tag >= 0", output_fields=["count(*)"])[0]["count(*)"] == 10
    client.drop_alias("ddl_alias")
    client.release_collection("ddl")
    assert str(client.get_load_state("ddl")["state"]) == "NotLoad"
    client.load_collection("ddl")
    assert str(client.get_load_state("ddl")["state"]) == "Loaded"
    client.release_collection("ddl")
    client.drop_index("ddl", "vector")
    assert client.list_indexes("ddl") == []
    client.rename_collection("ddl", "ddl2")
    assert client.has_collection("ddl2") and not client.has_collection("ddl")
    client.drop_collection("ddl2")


def test_databases(client):
    client.create_database("db_py", properties={"database.max.collections": "5"})
    assert "db_py" in client.list_databases()
    assert client.describe_database("db_py")["database.max.collections"] == "5"
    # MilvusClient addresses one database at a time (the `dbname` metadata of every call).
    client.use_database("db_py")
    client.create_collection("in_db", dimension=4)
    assert client.list_collections() == ["in_db"]
    client.insert("in_db", [{"id": 1, "vector": vec(4, 1)}])
    assert client.query("in_db", filter="id == 1", output_fields=["count(*)"])[0]["count(*)"] == 1
    client.use_database("default")
    assert "in_db" not in client.list_collections()
    with pytest.raises(MilvusException):
        client.drop_database("db_py")  # not empty
    client.use_database("db_py")
    client.drop_collection("in_db")
    client.use_database("default")
    client.drop_database("db_py")
    assert "db_py" not in client.list_databases()


def test_range_and_grouping_search(client):
    schema = client.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=4)
    schema.add_field("g", DataType.INT64)
    index = client.prepare_index_params()
    index.add_index("vector", index_type="FLAT", metric_type="L2")
    client.create_collection("grp", schema=schema, index_params=index)
    rows = [{"id": i, "vector": [float(i), 0, 0, 0], "g": i % 3} for i in range(30)]
    client.insert("grp", rows)
    hits = client.search("grp", data=[[0.0, 0, 0, 0]], limit=10, search_params={"params": {"radius": 26.0, "range_filter": 0.5}})
    assert sorted(h["id"] for h in hits[0]) == [1, 2, 3, 4, 5]
    grouped = client.search("grp", data=[[0.0, 0, 0, 0]], limit=3, group_by_field="g", output_fields=["g"])
    assert sorted(h["entity"]["g"] for h in grouped[0]) == [0, 1, 2]
    page = client.search("grp", data=[[0.0, 0, 0, 0]], limit=3, offset=2)
    assert [h["id"] for h in page[0]] == [2, 3, 4]
    q = client.query("grp", filter="id >= 0", limit=4, offset=3, output_fields=["id"])
    assert len(q) == 4
    client.drop_collection("grp")


def test_errors_carry_milvus_codes(client):
    with pytest.raises(MilvusException) as e:
        client.describe_collection("does_not_exist")
    assert e.value.code == 100
    client.create_collection("errs", dimension=4)
    with pytest.raises(MilvusException) as e:
        client.search("errs", data=[[1.0, 2.0]], limit=3)
    assert e.value.code == 1100
    with pytest.raises(MilvusException) as e:
        client.query("errs", filter="nope >>> 3")
    assert e.value.code == 1100
    with pytest.raises(MilvusException) as e:
        client.create_collection("errs", dimension=8)
    client.drop_collection("errs")


def test_orm_connections_and_collection(server):
    connections.connect(alias="orm", uri=server.uri)
    try:
        fields = [
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("emb", DataType.FLOAT_VECTOR, dim=4),
        ]
        col = Collection("orm_col", CollectionSchema(fields), using="orm")
        col.insert([[1, 2, 3], [vec(4, 1), vec(4, 2), vec(4, 3)]])
        col.flush()
        col.create_index("emb", {"index_type": "IVF_FLAT", "metric_type": "L2", "params": {"nlist": 4}})
        utility.wait_for_index_building_complete("orm_col", using="orm")
        col.load()
        res = col.search([vec(4, 2)], "emb", {"metric_type": "L2", "params": {"nprobe": 4}}, limit=1)
        assert res[0][0].id == 2
        assert col.num_entities == 3
        assert utility.has_collection("orm_col", using="orm")
        col.drop()
    finally:
        connections.disconnect("orm")


def test_iterators(client):
    client.create_collection("iter", dimension=4, metric_type="L2")
    client.insert("iter", [{"id": i, "vector": [float(i), 0, 0, 0]} for i in range(250)])
    it = client.query_iterator("iter", batch_size=40, filter="id >= 0", output_fields=["id"])
    seen = []
    while True:
        batch = it.next()
        if not batch:
            it.close()
            break
        seen += [r["id"] for r in batch]
    assert sorted(seen) == list(range(250))
    it = client.search_iterator("iter", data=[[0.0, 0, 0, 0]], batch_size=50, limit=120, anns_field="vector")
    found = []
    while True:
        batch = it.next()
        if not batch:
            it.close()
            break
        found += [h["id"] for h in batch]
    assert len(found) == 120 and len(set(found)) == 120
    client.drop_collection("iter")


def test_authentication_is_required(auth_server):
    with pytest.raises(MilvusException):
        MilvusClient(auth_server.uri, token="root:wrong", timeout=10).list_collections()
    root = MilvusClient(auth_server.uri, token="root:Milvus", timeout=10)
    assert root.list_collections() == []
    root.close()


def test_hybrid_search_with_rrf_and_weighted(client):
    from pymilvus import AnnSearchRequest, RRFRanker, WeightedRanker

    schema = client.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("a", DataType.FLOAT_VECTOR, dim=4)
    schema.add_field("b", DataType.FLOAT_VECTOR, dim=4)
    index = client.prepare_index_params()
    index.add_index("a", index_type="FLAT", metric_type="L2")
    index.add_index("b", index_type="FLAT", metric_type="L2")
    client.create_collection("hybrid", schema=schema, index_params=index)
    client.insert("hybrid", [{"id": i, "a": [float(i), 0, 0, 0], "b": [float(20 - i), 0, 0, 0]} for i in range(21)])
    reqs = [
        AnnSearchRequest(data=[[0.0, 0, 0, 0]], anns_field="a", param={}, limit=5),
        AnnSearchRequest(data=[[20.0, 0, 0, 0]], anns_field="b", param={}, limit=5, expr="id < 3"),
    ]
    rrf = client.hybrid_search("hybrid", reqs, RRFRanker(60), limit=3)
    # id 0 is first in both searches; ids 1 and 2 are second and third in both.
    assert [h["id"] for h in rrf[0]] == [0, 1, 2]
    assert rrf[0][0]["distance"] == pytest.approx(2 / 61, rel=1e-4)
    weighted = client.hybrid_search("hybrid", reqs, WeightedRanker(1.0, 0.0), limit=2, output_fields=["a"])
    assert [h["id"] for h in weighted[0]] == [0, 1]
    assert weighted[0][0]["entity"]["a"] == [0.0, 0.0, 0.0, 0.0]
    with pytest.raises(MilvusException) as e:
        client.hybrid_search("hybrid", reqs, WeightedRanker(1.0), limit=2)
    assert e.value.code == 1100
    client.drop_collection("hybrid")


def test_users_roles_and_grants_need_credentials(auth_server):
    root = MilvusClient(auth_server.uri, token="root:Milvus", timeout=10)
    root.create_user("alice", "Alice-pass-1")
    assert "alice" in root.list_users()
    root.create_role("reader")
    root.grant_privilege("reader", "Collection", "Query", "*")
    root.grant_role("alice", "reader")
    assert "reader" in root.describe_user("alice")["roles"]
    privileges = root.describe_role("reader")["privileges"]
    assert any(p["privilege"] == "Query" and p["object_type"] == "Collection" for p in privileges)
    root.create_privilege_group("pg_py")
    root.add_privileges_to_group("pg_py", ["Query", "Search"])
    groups = {g["privilege_group"]: g["privileges"] for g in root.list_privilege_groups()}
    assert sorted(groups["pg_py"]) == ["Query", "Search"]
    root.create_collection("guarded", dimension=4)
    root.insert("guarded", [{"id": 1, "vector": [1.0, 0, 0, 0]}])

    alice = MilvusClient(auth_server.uri, user="alice", password="Alice-pass-1", timeout=10)
    assert alice.query("guarded", filter="id == 1", output_fields=["count(*)"])[0]["count(*)"] == 1
    with pytest.raises(MilvusException) as e:
        alice.insert("guarded", [{"id": 2, "vector": [1.0, 0, 0, 0]}])
    assert e.value.code == 1401
    with pytest.raises(MilvusException) as e:
        alice.drop_collection("guarded")
    assert e.value.code == 1401
    alice.update_password("alice", "Alice-pass-1", "Alice-pass-2")
    alice.close()
    with pytest.raises(MilvusException):
        MilvusClient(auth_server.uri, user="alice", password="Alice-pass-1", timeout=10).list_collections()

    root.revoke_role("alice", "reader")
    root.revoke_privilege("reader", "Collection", "Query", "*")
    root.drop_role("reader")
    root.drop_privilege_group("pg_py")
    root.drop_user("alice")
    assert "alice" not in root.list_users()
    root.drop_collection("guarded")
    root.close()


def test_privileges_follow_the_collection_not_the_callers_database(auth_server):
    root = MilvusClient(auth_server.uri, token="root:Milvus", timeout=10)
    root.create_database("vault")
    root.create_collection("movable", dimension=4)
    root.create_user("mover", "Mover-pass-1")
    root.create_role("renamer")
    # RenameCollection is a cluster privilege (as in Milvus): granted, it moves collections
    # between databases.
    root.grant_privilege_v2("renamer", "RenameCollection", "*", db_name="*")
    root.grant_role("mover", "renamer")
    mover = MilvusClient(auth_server.uri, user="mover", password="Mover-pass-1", timeout=10)
    mover.rename_collection("movable", "moved", target_db="vault")
    root.using_database("vault")
    assert root.has_collection("moved")
    root.using_database("default")
    # flush_all from a user with Flush in one database flushes only that database.
    with pytest.raises(MilvusException) as e:
        mover.flush_all()
    assert e.value.code == 1401
    root.grant_privilege_v2("renamer", "Flush", "*", db_name="default")
    mover.flush_all()
    mover.close()
    root.revoke_role("mover", "renamer")
    root.revoke_privilege_v2("renamer", "RenameCollection", "*", db_name="*")
    root.revoke_privilege_v2("renamer", "Flush", "*", db_name="default")
    root.drop_role("renamer")
    root.drop_user("mover")
    root.using_database("vault")
    root.drop_collection("moved")
    root.using_database("default")
    root.drop_database("vault")
    root.close()


def test_schema_and_index_changes_cluster_and_replicas(client):
    client.create_collection("evolve", dimension=4, metric_type="L2")
    client.insert("evolve", [{"id": i, "vector": [float(i), 0, 0, 0]} for i in range(5)])
    client.add_collection_field("evolve", field_name="score", data_type=DataType.INT64, nullable=True, default_value=42)
    client.insert("evolve", [{"id": 10, "vector": [1.0, 0, 0, 0], "score": 7}])
    got = {r["id"]: r["score"] for r in client.query("evolve", filter="id in [0, 10]", output_fields=["score"])}
    assert got == {0: 42, 10: 7}
    names = [f["name"] for f in client.describe_collection("evolve")["fields"]]
    assert names == ["id", "vector", "score"]
    client.release_collection("evolve")
    client.alter_index_properties("evolve", "vector", properties={"mmap.enabled": True})
    assert str(client.describe_index("evolve", "vector")["mmap.enabled"]).lower() == "true"
    client.drop_index_properties("evolve", "vector", property_keys=["mmap.enabled"])
    with pytest.raises(MilvusException) as e:
        client.alter_index_properties("evolve", "vector", properties={"no.such.key": 1})
    assert e.value.code == 1100
    client.load_collection("evolve")
    replicas = client.describe_replica("evolve")
    assert len(replicas) == 1 and replicas[0].resource_group == "__default_resource_group"
    assert client.list_resource_groups() == ["__default_resource_group"]
    group = client.describe_resource_group("__default_resource_group")
    assert group.num_loaded_replica.get("evolve") == 1
    client.drop_collection("evolve")


def test_bulk_insert_through_the_import_rpcs(server, client):
    import json
    import os
    import time

    client.create_collection("bulk", dimension=4)
    directory = os.path.join(server.data, "data", "import")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "rows.json"), "w") as f:
        json.dump({"rows": [{"id": i, "vector": [float(i), 1.0, 0.0, 0.0]} for i in range(50)]}, f)
    connections.connect(alias="bulk", uri=server.uri)
    try:
        task = utility.do_bulk_insert("bulk", files=["rows.json"], using="bulk")
        deadline = time.time() + 60
        while True:
            state = utility.get_bulk_insert_state(task, using="bulk")
            if state.state_name in ("Completed", "Failed") or time.time() > deadline:
                break
            time.sleep(0.2)
        assert state.state_name == "Completed", state
        assert state.row_count == 50
        assert any(t.task_id == task for t in utility.list_bulk_insert_tasks(collection_name="bulk", using="bulk"))
    finally:
        connections.disconnect("bulk")
    assert client.query("bulk", filter="id >= 0", output_fields=["count(*)"])[0]["count(*)"] == 50
    client.drop_collection("bulk")


def test_grpc_and_rest_read_each_others_writes(server, client):
    import requests

    def rest(route, body):
        return requests.post(f"{server.uri}/v2/vectordb/{route}", json=body, timeout=30).json()

    schema = client.create_schema(enable_dynamic_field=True)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=3)
    schema.add_field("name", DataType.VARCHAR, max_length=20, nullable=True)
    schema.add_field("tags", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=3, max_length=8)
    schema.add_field("meta", DataType.JSON)
    index = client.prepare_index_params()
    index.add_index("v", index_type="FLAT", metric_type="IP")
    client.create_collection("cross", schema=schema, index_params=index)
    grpc_rows = [{"id": i, "v": [0.5, i, -1.0], "name": None if i == 2 else f"n{i}", "tags": ["x", "y"][: i % 3],
                  "meta": {"k": i, "s": "é"}, "extra": i * 10} for i in range(4)]
    client.insert("cross", grpc_rows)
    rest_rows = [{"id": 100 + i, "v": [0.25, i, 2.0], "name": f"r{i}", "tags": ["z"], "meta": {"k": -i}, "extra": -i} for i in range(3)]
    assert rest("entities/insert", {"collectionName": "cross", "data": rest_rows})["code"] == 0
    fields = ["id", "v", "name", "tags", "meta", "extra"]
    over_grpc = sorted(client.query("cross", filter="id >= 0", output_fields=fields), key=lambda r: r["id"])
    over_rest = sorted(rest("entities/query", {"collectionName": "cross", "filter": "id >= 0", "outputFields": fields, "limit": 100})["data"], key=lambda r: r["id"])
    assert [r["id"] for r in over_grpc] == [r["id"] for r in over_rest] == [0, 1, 2, 3, 100, 101, 102]
    for g, r in zip(over_grpc, over_rest):
        assert g["v"] == pytest.approx(r["v"])
        assert g["name"] == r["name"]
        # REST shows an Array field in Milvus's proto wrapper: {"Data": {"StringData": {"data": [...]}}}.
        assert list(g["tags"]) == r["tags"]["Data"]["StringData"]["data"]
        assert g["meta"] == requests.models.complexjson.loads(r["meta"]) if isinstance(r["meta"], str) else r["meta"]
        assert g["extra"] == r["extra"]
    # Searches agree too (IP: higher is better).
    grpc_hits = client.search("cross", data=[[0.0, 1.0, 0.0]], limit=3, output_fields=["name"])[0]
    rest_hits = rest("entities/search", {"collectionName": "cross", "data": [[0.0, 1.0, 0.0]], "limit": 3, "outputFields": ["name"]})["data"]
    assert [h["id"] for h in grpc_hits] == [h["id"] for h in rest_hits]
    assert [h["distance"] for h in grpc_hits] == pytest.approx([h["distance"] for h in rest_hits])
    client.drop_collection("cross")


def test_partition_key_and_every_metric(client):
    schema = client.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("tenant", DataType.VARCHAR, max_length=16, is_partition_key=True)
    schema.add_field("l2", DataType.FLOAT_VECTOR, dim=2)
    schema.add_field("ip", DataType.FLOAT_VECTOR, dim=2)
    schema.add_field("cos", DataType.FLOAT_VECTOR, dim=2)
    schema.add_field("jac", DataType.BINARY_VECTOR, dim=8)
    index = client.prepare_index_params()
    index.add_index("l2", index_type="HNSW", metric_type="L2", params={"M": 8, "efConstruction": 32})
    index.add_index("ip", index_type="IVF_FLAT", metric_type="IP", params={"nlist": 2})
    index.add_index("cos", index_type="AUTOINDEX", metric_type="COSINE")
    index.add_index("jac", index_type="BIN_FLAT", metric_type="JACCARD")
    client.create_collection("metrics", schema=schema, index_params=index, num_partitions=4)
    assert len(client.list_partitions("metrics")) == 4
    rows = [{"id": i, "tenant": f"t{i % 3}", "l2": [i, 0.0], "ip": [1.0, i], "cos": [1.0, i / 10], "jac": bytes([i])} for i in range(1, 20)]
    client.insert("metrics", rows)
    assert client.search("metrics", data=[[5.0, 0.0]], anns_field="l2", limit=1)[0][0]["id"] == 5
    assert client.search("metrics", data=[[0.0, 1.0]], anns_field="ip", limit=1)[0][0]["id"] == 19
    assert client.search("metrics", data=[[1.0, 0.5]], anns_field="cos", limit=1)[0][0]["id"] == 5
    assert client.search("metrics", data=[bytes([7])], anns_field="jac", limit=1)[0][0]["id"] == 7
    only = client.search("metrics", data=[[5.0, 0.0]], anns_field="l2", limit=10, filter='tenant == "t1"', output_fields=["tenant"])
    assert {h["entity"]["tenant"] for h in only[0]} == {"t1"}
    with pytest.raises(MilvusException) as e:
        client.search("metrics", data=[[5.0, 0.0]], anns_field="l2", limit=1, search_params={"metric_type": "IP"})
    assert e.value.code == 1100 and "metric type not match" in e.value.message
    client.drop_collection("metrics")


def test_error_codes_and_messages_match_rest(server, client):
    import requests

    def rest(route, body):
        return requests.post(f"{server.uri}/v2/vectordb/{route}", json=body, timeout=30).json()

    cases = [
        (lambda: client.describe_collection("ghost"), ("collections/describe", {"collectionName": "ghost"})),
        (lambda: client.drop_partition("ghost", "p"), ("partitions/drop", {"collectionName": "ghost", "partitionName": "p"})),
        (lambda: client.describe_alias("ghost_alias"), ("aliases/describe", {"aliasName": "ghost_alias"})),
    ]
    for call, (route, body) in cases:
        with pytest.raises(MilvusException) as e:
            call()
        answer = rest(route, body)
        assert (e.value.code, e.value.message) == (answer["code"], answer["message"]), route
    client.create_collection("errs2", dimension=4)
    with pytest.raises(MilvusException) as e:
        client.insert("errs2", [{"id": 1, "vector": [1.0, 2.0, 3.0]}])
    assert e.value.code in (1, 1100)
    with pytest.raises(MilvusException) as e:
        client.query("errs2", filter="id > 0", limit=20000)
    assert e.value.code == 1100 and "16384" in e.value.message
    with pytest.raises(MilvusException) as e:
        client.query("errs2", filter="")
    assert e.value.code == 1100 and "empty expression should be used with limit" in e.value.message
    client.drop_collection("errs2")
