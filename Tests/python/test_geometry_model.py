"""A model test of Geometry filters through pymilvus over gRPC: random points, lines and
polygons (some with holes) on a small integer grid, so that shapes share vertices and edges and
every predicate has both answers; random ST_* predicates, each answer checked against shapely
(GEOS, computed here independently of the server), on growing and flushed segments, then again
once the RTREE index is built on every flushed segment. ST_DWITHIN is checked on every row
against the distance Milvus 2.6 computes, reproduced here: haversine for a point row, and for
other shapes shapely's planar distance in degrees scaled at the center's latitude."""

import csv
import json
import math
import os
import random
import time

import pytest
import requests
from pymilvus import DataType, MilvusClient
from shapely import wkt
from shapely.geometry import LineString, Point, Polygon

from conftest import Server

# Milvus's argument order: op(geo_field, 'WKT') asks op(row, query), as shapely's row.op(query).
PREDICATES = {
    "ST_EQUALS": "equals",
    "ST_TOUCHES": "touches",
    "ST_OVERLAPS": "overlaps",
    "ST_CROSSES": "crosses",
    "ST_CONTAINS": "contains",
    "ST_INTERSECTS": "intersects",
    "ST_WITHIN": "within",
}
EARTH_RADIUS = 6_371_000.0  # meters, the radius of Milvus's haversine distance
METERS_PER_DEGREE = 111_320.0  # Milvus's meters per degree of latitude, for shapes other than points
GRID = 12


@pytest.fixture(scope="module")
def small_segments():
    # Segments of 150 rows, indexed from 50 rows: several flushed segments, each with an RTREE.
    s = Server(env={"ELANUS_SEGMENT_MAX_ROWS": "150", "ELANUS_INDEX_MIN_SEGMENT_ROWS": "50"}).start()
    yield s
    s.cleanup()


@pytest.fixture(scope="module")
def client(small_segments):
    c = MilvusClient(small_segments.uri, timeout=30)
    yield c
    c.close()


def random_geometry(rng, kind):
    """A valid geometry of `kind` (0 point, 1 line, 2 polygon, 3 polygon with a hole)."""
    def pt():
        return (rng.randint(0, GRID), rng.randint(0, GRID))

    if kind == 0:
        return Point(pt())
    if kind == 1:
        while True:
            line = LineString([pt() for _ in range(rng.randint(2, 4))])
            if line.length > 0:
                return line
    x0, y0 = rng.randint(0, GRID - 2), rng.randint(0, GRID - 2)
    x1, y1 = rng.randint(x0 + 1, min(GRID, x0 + 8)), rng.randint(y0 + 1, min(GRID, y0 + 8))
    if kind == 2:
        if rng.random() < 0.5:
            return Polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
        # A right triangle: edges on the grid lines and one diagonal.
        return Polygon([(x0, y0), (x1, y0), (x0, y1)])
    # A rectangle with a rectangular hole strictly inside (the outer one at least 3 wide).
    x1, y1 = max(x1, x0 + 3), max(y1, y0 + 3)
    hx0, hy0 = rng.randint(x0 + 1, x1 - 2), rng.randint(y0 + 1, y1 - 2)
    hx1, hy1 = rng.randint(hx0 + 1, x1 - 1), rng.randint(hy0 + 1, y1 - 1)
    return Polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], [[(hx0, hy0), (hx1, hy0), (hx1, hy1), (hx0, hy1)]])


def great_circle(a, b):
    (lon1, lat1), (lon2, lat2) = [(math.radians(p.x), math.radians(p.y)) for p in (a, b)]
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS * math.asin(min(1.0, math.sqrt(h)))


def milvus_distance(row, center):
    """Milvus's ST_DWITHIN distance in meters from `center` (a point) to a row's geometry."""
    if isinstance(row, Point):
        return great_circle(row, center)
    c = math.cos(math.radians(center.y))
    return row.distance(center) * METERS_PER_DEGREE * math.sqrt((1 + c * c) / 2)


def check_predicates(client, name, rng, rows, rounds, field="geo"):
    """`rounds` random predicates on `field` (each also combined with a scalar clause, and
    negated), checked against shapely over every row of `rows` (id -> geometry or None); returns
    how many matched at least one row. ST_DWITHIN is asked of `geo` only."""
    nonempty = 0
    for _ in range(rounds):
        op = rng.choice(sorted(PREDICATES))
        query_geometry = random_geometry(rng, rng.randint(0, 3))
        # Half of the queries ask about a stored shape itself (equals, touches... then hold).
        if rng.random() < 0.5:
            query_geometry = rng.choice([g for g in rows.values() if g is not None])
        method = PREDICATES[op]
        expected = {i for i, g in rows.items() if g is not None and getattr(g, method)(query_geometry)}
        expr = f"{op}({field}, '{query_geometry.wkt}')"
        got = {r["id"] for r in client.query(name, filter=expr, output_fields=["id"], limit=16384)}
        assert got == expected, f"{expr}: missing {sorted(expected - got)}, extra {sorted(got - expected)}"
        nonempty += bool(expected)
        # Combined with another operator, and negated.
        got = {r["id"] for r in client.query(name, filter=f"id % 3 == 0 and {expr}", output_fields=["id"], limit=16384)}
        assert got == {i for i in expected if i % 3 == 0}, f"id % 3 == 0 and {expr}"
        got = {r["id"] for r in client.query(name, filter=f"not {expr}", output_fields=["id"], limit=16384)}
        assert got == {i for i, g in rows.items() if g is not None} - expected, f"not {expr}"
    # ST_DWITHIN on every row, against Milvus's distance computed here; distances in meters
    # between about 10 and 500 km, and no row within a meter of the limit. Half of the rounds
    # ask the point rows only (kind 0), half every shape.
    for n in range(rounds // 2 if field == "geo" else 0):
        center = Point(rng.uniform(0, GRID), rng.uniform(0, GRID))
        meters = rng.uniform(1e4, 5e5)
        points_only = n % 2 == 0
        asked = {i: g for i, g in rows.items() if g is not None and (isinstance(g, Point) or not points_only)}
        if any(abs(milvus_distance(g, center) - meters) < 1 for g in asked.values()):
            continue
        expected = {i for i, g in asked.items() if milvus_distance(g, center) <= meters}
        expr = f"ST_DWITHIN(geo, 'POINT ({center.x!r} {center.y!r})', {meters!r})"
        if points_only:
            expr = "kind == 0 and " + expr
        got = {r["id"] for r in client.query(name, filter=expr, output_fields=["id"], limit=16384)}
        assert got == expected, f"{expr}: missing {sorted(expected - got)}, extra {sorted(got - expected)}"
    return nonempty


def wait_for_rtree(client, name, index="geo"):
    deadline = time.time() + 120
    while time.time() < deadline:
        info = client.describe_index(name, index)
        if info.get("state") == "Finished" and info.get("indexed_rows") == info.get("total_rows") and info.get("total_rows", 0) > 0:
            return info
        time.sleep(0.2)
    raise AssertionError(f"the RTREE index was not built in 120 s: {client.describe_index(name, index)}")


@pytest.mark.parametrize("seed", [1, 2])
def test_spatial_predicates_match_shapely(client, seed):
    rng = random.Random(seed)
    name = f"geo_model_{seed}"
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("kind", DataType.INT64)
    schema.add_field("geo", DataType.GEOMETRY, nullable=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
    index = client.prepare_index_params()
    index.add_index("v", index_type="FLAT", metric_type="L2")
    client.create_collection(name, schema=schema, index_params=index)

    rows = {}
    data = []
    for i in range(600):
        kind = rng.randint(0, 3)
        geometry = None if i % 50 == 7 else random_geometry(rng, kind)
        rows[i] = geometry
        data.append({"id": i, "kind": kind, "geo": None if geometry is None else geometry.wkt,
                     "v": [float(rng.randint(0, GRID)), float(rng.randint(0, GRID))]})
    for start in range(0, len(data), 100):
        assert client.insert(name, data[start:start + 100])["insert_count"] == 100
    # The stored text reads back as the same geometry (GEOS's WKT of it).
    for r in client.query(name, filter="id < 20", output_fields=["geo"]):
        assert (r["geo"] is None) == (rows[r["id"]] is None)
        if r["geo"] is not None:
            assert wkt.loads(r["geo"]).equals_exact(rows[r["id"]], 0)

    # Sealed segments and the growing one, no spatial index yet.
    assert check_predicates(client, name, rng, rows, 40) >= 20
    client.flush(name)
    assert check_predicates(client, name, rng, rows, 20) >= 10

    index = client.prepare_index_params()
    index.add_index("geo", index_type="RTREE", index_name="geo")
    client.create_index(name, index)
    wait_for_rtree(client, name)
    assert check_predicates(client, name, rng, rows, 40) >= 20

    # A filtered search returns only matching rows, `limit` of them when that many match.
    box = Polygon([(2, 2), (9, 2), (9, 9), (2, 9)])
    expected = {i for i, g in rows.items() if g is not None and g.intersects(box)}
    hits = client.search(name, data=[[5.0, 5.0]], limit=10, filter=f"ST_INTERSECTS(geo, '{box.wkt}')", output_fields=["geo"])[0]
    assert len(hits) == min(10, len(expected)) and all(h["id"] in expected for h in hits)
    client.drop_collection(name)


def rest(server, route, body):
    reply = requests.post(f"{server.uri}/v2/vectordb/{route}", json=body, timeout=60).json()
    assert reply.get("code") == 0, f"{route}: {reply}"
    return reply.get("data")


def test_defaults_nulls_import_compaction_and_restart(client, small_segments):
    """A nullable Geometry field and one with a default value, filled by inserts and by a JSON
    import; rows deleted, segments compacted (their RTREE indexes built again), the server
    restarted: every step checked against shapely on both fields."""
    rng = random.Random(7)
    name = "geo_lifecycle"
    default = Point(5, 5)
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("kind", DataType.INT64)
    schema.add_field("geo", DataType.GEOMETRY, nullable=True)
    schema.add_field("geo_d", DataType.GEOMETRY, default_value=default.wkt)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
    index = client.prepare_index_params()
    index.add_index("v", index_type="FLAT", metric_type="L2")
    client.create_collection(name, schema=schema, index_params=index)

    geo, geo_d = {}, {}

    def row(i):
        kind = rng.randint(0, 3)
        geo[i] = None if rng.random() < 0.1 else random_geometry(rng, kind)
        # A third of the rows leave geo_d out (the default fills it).
        given = None if rng.random() < 0.33 else random_geometry(rng, rng.randint(0, 3))
        geo_d[i] = given or default
        out = {"id": i, "kind": kind, "geo": None if geo[i] is None else geo[i].wkt, "v": [float(i % 13), 1.0]}
        if given is not None:
            out["geo_d"] = given.wkt
        return out

    inserted = [row(i) for i in range(400)]
    for start in range(0, 400, 100):
        assert client.insert(name, inserted[start:start + 100])["insert_count"] == 100
    # Imported: 400..599 from JSON, 600..699 from CSV (WKT cells quoted; an empty cell is null,
    # or the default for geo_d).
    imported = [row(i) for i in range(400, 700)]
    folder = os.path.join(small_segments.data, "data", "import")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "geo.json"), "w") as f:
        json.dump(imported[:200], f)
    with open(os.path.join(folder, "geo.csv"), "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "kind", "geo", "geo_d", "v"])
        for r in imported[200:]:
            out.writerow([r["id"], r["kind"], r["geo"] or "", r.get("geo_d", ""), json.dumps(r["v"])])
    for file in ("geo.json", "geo.csv"):
        job = rest(small_segments, "jobs/import/create", {"collectionName": name, "files": [[file]]})["jobId"]
        deadline = time.time() + 60
        while (state := rest(small_segments, "jobs/import/describe", {"jobId": job}))["state"] not in ("Completed", "Failed"):
            assert time.time() < deadline, state
            time.sleep(0.1)
        assert state["state"] == "Completed", state

    got = {r["id"]: r for r in client.query(name, filter="id >= 395 and id < 405 or id >= 690", output_fields=["geo", "geo_d"])}
    for i in list(range(395, 405)) + list(range(690, 700)):
        assert (got[i]["geo"] is None) == (geo[i] is None)
        assert wkt.loads(got[i]["geo_d"]).equals_exact(geo_d[i], 0)
    assert check_predicates(client, name, rng, geo, 15) >= 5
    assert check_predicates(client, name, rng, geo_d, 15, field="geo_d") >= 5
    assert {r["id"] for r in client.query(name, filter="geo is null", output_fields=["id"], limit=16384)} == {i for i, g in geo.items() if g is None}

    # A quarter deleted, then flushed, indexed, compacted (the merged segments indexed again).
    client.delete(name, filter="id % 4 == 0")
    for rows in (geo, geo_d):
        for i in [i for i in rows if i % 4 == 0]:
            del rows[i]
    client.flush(name)
    for field in ("geo", "geo_d"):
        index = client.prepare_index_params()
        index.add_index(field, index_type="RTREE", index_name=field)
        client.create_index(name, index)
        wait_for_rtree(client, name, field)
    compaction = rest(small_segments, "collections/compact", {"collectionName": name})["compactionID"]
    deadline = time.time() + 120
    while (state := rest(small_segments, "collections/get_compaction_state", {"jobID": compaction}))["state"] != "Completed":
        assert time.time() < deadline, state
        time.sleep(0.2)
    # Segments of 150 rows with a quarter deleted: compaction rewrites (merges) some of them,
    # this request's plans or, on a busy machine, the automatic compaction that ran first.
    assert state["failedPlanNumber"] == 0, state
    for field in ("geo", "geo_d"):
        wait_for_rtree(client, name, field)
    assert check_predicates(client, name, rng, geo, 20) >= 8
    assert check_predicates(client, name, rng, geo_d, 20, field="geo_d") >= 8

    # After a restart: segment files and RTREE index files read back.
    small_segments.restart()
    again = MilvusClient(small_segments.uri, timeout=30)
    try:
        again.load_collection(name)
        assert check_predicates(again, name, rng, geo, 20) >= 8
        assert check_predicates(again, name, rng, geo_d, 20, field="geo_d") >= 8
        again.drop_collection(name)
    finally:
        again.close()
