"""A model test of Geometry filters through pymilvus over gRPC: random points, lines and
polygons (some with holes) on a small integer grid, so that shapes share vertices and edges and
every predicate has both answers; random ST_* predicates, each answer checked against shapely
(GEOS, computed here independently of the server), on growing and flushed segments, then again
once the RTREE index is built on every flushed segment. ST_DWITHIN is checked on the point rows
against a haversine distance computed here."""

import math
import random
import time

import pytest
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
EARTH_RADIUS = 6_371_008.8  # meters, IUGG mean radius, as the server uses
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


def check_predicates(client, name, rng, rows, rounds):
    """`rounds` random predicates (and a few combined with a scalar clause), each checked
    against shapely over every row; returns how many matched at least one row."""
    nonempty = 0
    for _ in range(rounds):
        op = rng.choice(sorted(PREDICATES))
        query_geometry = random_geometry(rng, rng.randint(0, 3))
        # Half of the queries ask about a stored shape itself (equals, touches... then hold).
        if rng.random() < 0.5:
            query_geometry = rng.choice([g for g in rows.values() if g is not None])
        method = PREDICATES[op]
        expected = {i for i, g in rows.items() if g is not None and getattr(g, method)(query_geometry)}
        expr = f"{op}(geo, '{query_geometry.wkt}')"
        got = {r["id"] for r in client.query(name, filter=expr, output_fields=["id"], limit=16384)}
        assert got == expected, f"{expr}: missing {sorted(expected - got)}, extra {sorted(got - expected)}"
        nonempty += bool(expected)
        # Combined with another operator, and negated.
        got = {r["id"] for r in client.query(name, filter=f"id % 3 == 0 and {expr}", output_fields=["id"], limit=16384)}
        assert got == {i for i in expected if i % 3 == 0}, f"id % 3 == 0 and {expr}"
        got = {r["id"] for r in client.query(name, filter=f"not {expr}", output_fields=["id"], limit=16384)}
        assert got == {i for i, g in rows.items() if g is not None} - expected, f"not {expr}"
    # ST_DWITHIN on the point rows (kind 0), against the haversine distance here; distances in
    # meters between about 10 and 500 km, and no row within a meter of the limit.
    for _ in range(rounds // 2):
        center = Point(rng.uniform(0, GRID), rng.uniform(0, GRID))
        meters = rng.uniform(1e4, 5e5)
        points = {i: g for i, g in rows.items() if isinstance(g, Point)}
        if any(abs(great_circle(g, center) - meters) < 1 for g in points.values()):
            continue
        expected = {i for i, g in points.items() if great_circle(g, center) <= meters}
        expr = f"kind == 0 and ST_DWITHIN(geo, 'POINT ({center.x!r} {center.y!r})', {meters!r})"
        got = {r["id"] for r in client.query(name, filter=expr, output_fields=["id"], limit=16384)}
        assert got == expected, f"{expr}: missing {sorted(expected - got)}, extra {sorted(got - expected)}"
    return nonempty


def wait_for_rtree(client, name):
    deadline = time.time() + 120
    while time.time() < deadline:
        info = client.describe_index(name, "geo")
        if info.get("state") == "Finished" and info.get("indexed_rows") == info.get("total_rows") and info.get("total_rows", 0) > 0:
            return info
        time.sleep(0.2)
    raise AssertionError(f"the RTREE index was not built in 120 s: {client.describe_index(name, 'geo')}")


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
