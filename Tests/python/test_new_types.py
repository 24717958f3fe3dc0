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


def scalar_collection(client, name, add_field, scalar_index=None):
    """A collection with an Int64 key, one field `add_field` adds, and a 2-d float vector with a
    FLAT index (plus `scalar_index` on the added field when given)."""
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    add_field(schema)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
    index = client.prepare_index_params()
    index.add_index("v", index_type="FLAT", metric_type="L2")
    if scalar_index:
        index.add_index(scalar_index[0], index_type=scalar_index[1])
    client.create_collection(name, schema=schema, index_params=index)


def test_timestamptz_over_grpc(client):
    from datetime import datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    name = "tsz_grpc"
    scalar_collection(client, name, lambda s: s.add_field("tsz", DataType.TIMESTAMPTZ, nullable=True), ("tsz", "STL_SORT"))
    field = next(f for f in client.describe_collection(name)["fields"] if f["name"] == "tsz")
    assert field["type"] == DataType.TIMESTAMPTZ

    shanghai = ZoneInfo("Asia/Shanghai")
    start = datetime(2025, 1, 1, tzinfo=shanghai)
    rows = [{"id": i, "tsz": None if i == 7 else (start + timedelta(days=i)).isoformat(), "v": [float(i), 0.0]} for i in range(20)]
    assert client.insert(name, rows)["insert_count"] == 20

    def instant(i):
        return (start + timedelta(days=i)).astimezone(timezone.utc)

    got = client.query(name, filter="id < 3", output_fields=["tsz"])
    assert sorted((r["id"], r["tsz"]) for r in got) == [(i, instant(i).strftime("%Y-%m-%dT%H:%M:%SZ")) for i in range(3)]
    got = client.query(name, filter="id < 3", output_fields=["tsz"], timezone="Asia/Shanghai")
    assert sorted((r["id"], r["tsz"]) for r in got) == [(i, (start + timedelta(days=i)).isoformat()) for i in range(3)]

    expr = "tsz >= ISO '2025-01-05T00:00:00+08:00' and tsz < ISO '2025-01-10T00:00:00+08:00'"
    assert sorted(r["id"] for r in client.query(name, filter=expr, output_fields=["id"])) == [4, 5, 6, 8]
    assert [r["id"] for r in client.query(name, filter="tsz is null", output_fields=["id"])] == [7]
    expr = "tsz + INTERVAL 'P2D' <= ISO '2025-01-04T00:00:00+08:00'"
    assert sorted(r["id"] for r in client.query(name, filter=expr, output_fields=["id"])) == [0, 1]
    # A template holds the instant as microseconds since the epoch (expr_template_values'
    # int64_val), as Milvus's segments read it; ISO text in a template is refused.
    micros = int(instant(15).timestamp()) * 1_000_000
    got = client.query(name, filter="tsz >= {t}", filter_params={"t": micros}, output_fields=["id"])
    assert sorted(r["id"] for r in got) == [15, 16, 17, 18, 19]
    with pytest.raises(MilvusException) as e:
        client.query(name, filter="tsz >= {t}", filter_params={"t": instant(15).isoformat()}, output_fields=["id"])
    assert e.value.code == 1100 and "cannot compare a Timestamptz field with a string" in e.value.message

    client.flush(name)
    hits = client.search(name, data=[[3.0, 0.0]], limit=2, filter="tsz > ISO '2025-01-03T00:00:00Z'",
                         output_fields=["tsz"], timezone="America/New_York")
    assert [h["id"] for h in hits[0]] == [3, 4]
    assert hits[0][0]["entity"]["tsz"] == instant(3).astimezone(ZoneInfo("America/New_York")).isoformat()

    with pytest.raises(MilvusException) as e:
        client.insert(name, [{"id": 100, "tsz": "not a time", "v": [0.0, 0.0]}])
    assert e.value.code == 1100 and "field tsz" in e.value.message and "not an ISO 8601 time" in e.value.message
    with pytest.raises(MilvusException) as e:
        client.query(name, filter="id < 3", output_fields=["tsz"], timezone="Mars/Olympus")
    assert e.value.code == 1100
    client.drop_collection(name)


def test_timestamptz_default_value_over_grpc(client):
    scalar_collection(client, "tsz_default", lambda s: s.add_field("d", DataType.TIMESTAMPTZ, default_value="2025-06-01T08:00:00+08:00"))
    client.insert("tsz_default", [{"id": 1, "v": [0.0, 0.0]}, {"id": 2, "d": "2025-01-01T00:00:00Z", "v": [0.0, 0.0]}])
    got = sorted((r["id"], r["d"]) for r in client.query("tsz_default", filter="id > 0", output_fields=["d"]))
    assert got == [(1, "2025-06-01T00:00:00Z"), (2, "2025-01-01T00:00:00Z")]
    assert client.query("tsz_default", filter="d == ISO '2025-06-01T00:00:00Z'", output_fields=["id"])[0]["id"] == 1
    client.drop_collection("tsz_default")


def test_timestamptz_zone_fixed_at_create_over_grpc(client):
    """CreateCollection's `timezone` property is the collection's zone: default values and rows
    without an offset are local times there, and describe writes the default back in it."""
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("d", DataType.TIMESTAMPTZ, default_value="2025-06-01T08:00:00")
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
    index = client.prepare_index_params()
    index.add_index("v", index_type="FLAT", metric_type="L2")
    client.create_collection("tsz_zone", schema=schema, index_params=index, properties={"timezone": "Asia/Tokyo"})
    described = client.describe_collection("tsz_zone")
    assert described["properties"]["timezone"] == "Asia/Tokyo"
    field = next(f for f in described["fields"] if f["name"] == "d")
    assert field["default_value"].string_data == "2025-06-01T08:00:00+09:00"
    client.insert("tsz_zone", [{"id": 1, "v": [0.0, 0.0]}, {"id": 2, "d": "2025-01-01T09:00:00", "v": [0.0, 0.0]}])
    got = sorted((r["id"], r["d"]) for r in client.query("tsz_zone", filter="id > 0", output_fields=["d"], timezone="UTC"))
    assert got == [(1, "2025-05-31T23:00:00Z"), (2, "2025-01-01T00:00:00Z")]
    # ISO literals without an offset in a filter: the request's zone, else the collection's.
    assert [r["id"] for r in client.query("tsz_zone", filter="d == ISO '2025-06-01T08:00:00'", output_fields=["id"])] == [1]
    assert [r["id"] for r in client.query("tsz_zone", filter="d == ISO '2025-05-31T23:00:00'", output_fields=["id"], timezone="UTC")] == [1]
    hits = client.search("tsz_zone", data=[[0.0, 0.0]], limit=5, filter="d == ISO '2025-01-01T00:00:00'", timezone="UTC")
    assert [h["id"] for h in hits[0]] == [2]
    # Without the property the collection gets UTC, as Milvus copies its database's (none) or UTC.
    scalar_collection(client, "tsz_zone_utc", lambda s: s.add_field("d", DataType.TIMESTAMPTZ, default_value="2025-06-01T08:00:00"))
    assert client.describe_collection("tsz_zone_utc")["properties"]["timezone"] == "UTC"
    client.insert("tsz_zone_utc", [{"id": 1, "v": [0.0, 0.0]}])
    assert client.query("tsz_zone_utc", filter="id > 0", output_fields=["d"])[0]["d"] == "2025-06-01T08:00:00Z"
    with pytest.raises(MilvusException) as e:
        client.create_collection("tsz_zone_bad", schema=schema, index_params=index, properties={"timezone": "Mars/Olympus"})
    assert e.value.code == 1100
    client.drop_collection("tsz_zone")
    client.drop_collection("tsz_zone_utc")


def test_search_grouped_by_timestamptz_over_grpc(client, server):
    """Grouping by a Timestamptz field: output fields are text in the request's zone and the
    group values are the instants (timestamptz_data), as Milvus 2.6 sends them. pymilvus does
    not read group values, so the Search call is made here by hand."""
    import struct

    import grpc
    from pymilvus.grpc_gen import common_pb2, milvus_pb2

    name = "tsz_group"
    scalar_collection(client, name, lambda s: s.add_field("t", DataType.TIMESTAMPTZ))
    day = 1_735_689_600_000_000  # 2025-01-01T00:00:00Z in microseconds
    rows = [{"id": i, "t": f"2025-01-0{i % 3 + 1}T00:00:00Z", "v": [float(i), 0.0]} for i in range(12)]
    client.insert(name, rows)
    hits = client.search(name, data=[[0.0, 0.0]], limit=2, group_by_field="t", group_size=2, output_fields=["t"])
    assert [h["id"] for h in hits[0]] == [0, 3, 1, 4]
    assert [h["entity"]["t"] for h in hits[0]] == ["2025-01-01T00:00:00Z"] * 2 + ["2025-01-02T00:00:00Z"] * 2

    group = common_pb2.PlaceholderGroup(placeholders=[common_pb2.PlaceholderValue(
        tag="$0", type=common_pb2.PlaceholderType.FloatVector, values=[struct.pack("<2f", 0.0, 0.0)])])
    params = {"anns_field": "v", "topk": "2", "metric_type": "L2", "params": "{}", "group_by_field": "t",
              "group_size": "2", "timezone": "Asia/Shanghai"}
    request = milvus_pb2.SearchRequest(
        collection_name=name, dsl_type=common_pb2.DslType.BoolExprV1, placeholder_group=group.SerializeToString(), nq=1,
        output_fields=["t"], search_params=[common_pb2.KeyValuePair(key=k, value=v) for k, v in params.items()])
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        call = channel.unary_unary("/milvus.proto.milvus.MilvusService/Search", request_serializer=lambda m: m.SerializeToString(),
                                   response_deserializer=milvus_pb2.SearchResults.FromString)
        reply = call(request, timeout=30)
    assert reply.status.code == 0, reply.status.reason
    assert list(reply.results.ids.int_id.data) == [0, 3, 1, 4]
    value = reply.results.group_by_field_value
    assert value.field_name == "t" and value.type == 26  # DataType.Timestamptz
    assert list(value.scalars.timestamptz_data.data) == [day, day, day + 86_400_000_000, day + 86_400_000_000]
    out = next(f for f in reply.results.fields_data if f.field_name == "t")
    assert list(out.scalars.string_data.data) == ["2025-01-01T08:00:00+08:00"] * 2 + ["2025-01-02T08:00:00+08:00"] * 2
    client.drop_collection(name)


def test_geometry_over_grpc(client):
    name = "geo_grpc"
    scalar_collection(client, name, lambda s: s.add_field("geo", DataType.GEOMETRY, nullable=True))
    field = next(f for f in client.describe_collection(name)["fields"] if f["name"] == "geo")
    assert field["type"] == DataType.GEOMETRY
    points = [(x, y) for x in range(10) for y in range(10)]
    rows = [{"id": i, "geo": f"POINT({x} {y})", "v": [float(x), float(y)]} for i, (x, y) in enumerate(points)]
    rows.append({"id": 1000, "geo": None, "v": [0.0, 0.0]})
    assert client.insert(name, rows)["insert_count"] == 101
    box = "POLYGON((1.5 1.5, 4.5 1.5, 4.5 3.5, 1.5 3.5, 1.5 1.5))"
    want = sorted(i for i, (x, y) in enumerate(points) if 1.5 < x < 4.5 and 1.5 < y < 3.5)
    got = client.query(name, filter=f"st_within(geo, '{box}')", output_fields=["geo"])
    assert sorted(r["id"] for r in got) == want
    assert all(r["geo"] == "POINT ({} {})".format(*points[r["id"]]) for r in got)
    hits = client.search(name, data=[[0.0, 0.0]], limit=3, filter=f"st_within(geo, '{box}')", output_fields=["geo"])
    assert len(hits[0]) == 3 and hits[0][0]["id"] == points.index((2, 2)) and all(h["id"] in want for h in hits[0])
    assert client.query(name, filter="id == 1000", output_fields=["geo"])[0]["geo"] is None
    with pytest.raises(MilvusException) as e:
        client.insert(name, [{"id": 5000, "geo": "POINT(1)", "v": [0.0, 0.0]}])
    assert "invalid geometry" in e.value.message
    client.drop_collection(name)


def test_timestamptz_csv_import(client, server):
    """Timestamptz cells of a CSV import are ISO 8601 text like the JSON import's (they used to
    be read as JSON, and failed as the number 2025): with an offset, without one (the
    collection's zone), and empty (null)."""
    import csv
    import os
    import time

    import requests

    name = "tsz_csv"
    scalar_collection(client, name, lambda s: s.add_field("tsz", DataType.TIMESTAMPTZ, nullable=True))
    client.alter_collection_properties(name, properties={"timezone": "Asia/Tokyo"})
    folder = os.path.join(server.data, "data", "import")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "tsz.csv"), "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "tsz", "v"])
        out.writerows([[1, "2025-01-01T00:00:00+08:00", "[0, 0]"], [2, "2025-01-01T00:00:00", "[1, 0]"], [3, "", "[2, 0]"]])

    def call(route, body):
        reply = requests.post(f"{server.uri}/v2/vectordb/{route}", json=body, timeout=30).json()
        assert reply["code"] == 0, reply
        return reply["data"]

    job = call("jobs/import/create", {"collectionName": name, "files": [["tsz.csv"]]})["jobId"]
    deadline = time.time() + 60
    while (state := call("jobs/import/describe", {"jobId": job}))["state"] not in ("Completed", "Failed"):
        assert time.time() < deadline, state
        time.sleep(0.1)
    assert state["state"] == "Completed", state
    got = sorted((r["id"], r["tsz"]) for r in client.query(name, filter="id > 0", output_fields=["tsz"], timezone="UTC"))
    assert got == [(1, "2024-12-31T16:00:00Z"), (2, "2024-12-31T15:00:00Z"), (3, None)]
    client.drop_collection(name)
