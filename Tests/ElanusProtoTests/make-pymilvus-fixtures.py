import base64, pymilvus
from pymilvus import MilvusClient, DataType
from pymilvus.client.prepare import Prepare
from pymilvus.client.abstract import CollectionSchema as DescribedSchema
from pymilvus.grpc_gen import milvus_pb2, schema_pb2, common_pb2

schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=True, description="pymilvus fixture")
schema.add_field("id", DataType.INT64, is_primary=True)
schema.add_field("vector", DataType.FLOAT_VECTOR, dim=4)
schema.add_field("title", DataType.VARCHAR, max_length=64)
schema.add_field("meta", DataType.JSON, nullable=True)

create = Prepare.create_collection_request("fixture", schema, consistency_level="Bounded", shards_num=1)

# The schema dict MilvusClient.insert reads from DescribeCollection.
desc = milvus_pb2.DescribeCollectionResponse(schema=Prepare.get_schema_from_collection_schema("fixture", schema))
for i, f in enumerate(desc.schema.fields):
    f.fieldID = 100 + i
info = DescribedSchema(raw=desc).dict()
rows = [
    {"id": 1, "vector": [0.1, 0.2, 0.3, 0.4], "title": "alpha", "meta": {"k": 1}, "color": "red"},
    {"id": 2, "vector": [1.0, 2.0, 3.0, 4.0], "title": "beta", "meta": None},
]
insert = Prepare.row_insert_param("fixture", rows, "", info["fields"], info.get("struct_array_fields", []),
                                  enable_dynamic=True, schema_timestamp=0)

search = Prepare.search_requests_with_expr(
    collection_name="fixture", anns_field="vector",
    param={"metric_type": "L2", "params": {"nprobe": 8}}, limit=3,
    data=[[0.1, 0.2, 0.3, 0.4]], expr="id > 0", output_fields=["title"],
    round_decimal=-1, use_default_consistency=True)

query = Prepare.query_request("fixture", "id in [1, 2]", ["id", "title"], [], limit=10)

# What a server answers to that query, built with pymilvus's own pb2 types (Swift must encode the same bytes).
results = milvus_pb2.QueryResults(
    status=common_pb2.Status(code=0),
    fields_data=[
        schema_pb2.FieldData(type=schema_pb2.Int64, field_name="id", field_id=100,
                             scalars=schema_pb2.ScalarField(long_data=schema_pb2.LongArray(data=[1, 2]))),
        schema_pb2.FieldData(type=schema_pb2.VarChar, field_name="title", field_id=102,
                             scalars=schema_pb2.ScalarField(string_data=schema_pb2.StringArray(data=["alpha", "beta"]))),
    ],
    collection_name="fixture", output_fields=["id", "title"], primary_field_name="id")

def kind(m):
    c, s = m.client_streaming, m.server_streaming
    return "bidirectional" if c and s else "clientStreaming" if c else "serverStreaming" if s else "unary"

print(f"""// DO NOT EDIT. Written by make-pymilvus-fixtures.py with pymilvus {pymilvus.__version__}
// (protobuf {__import__("google.protobuf").protobuf.__version__}): bytes exactly as that client serializes them.

enum PymilvusFixtures {{
    static let version = "{pymilvus.__version__}"
""")
for name, msg in [("createCollection", create), ("insert", insert), ("search", search), ("query", query),
                  ("queryResults", results)]:
    print(f'    static let {name} = "{base64.b64encode(msg.SerializeToString()).decode()}"')
print("""
    /// Every rpc of the services compiled into pymilvus.grpc_gen.milvus_pb2:
    /// service, rpc, request message, response message, streaming kind.
    static let rpcs = \"\"\"""")
for s in milvus_pb2.DESCRIPTOR.services_by_name.values():
    for m in s.methods:
        print(f"        {s.full_name} {m.name} {m.input_type.full_name} {m.output_type.full_name} {kind(m)}")
print('        """')
print("}")
