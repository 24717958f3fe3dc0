"""Milvus's full-text search guide with pymilvus over gRPC: an analyzed VarChar field, a BM25
function, raw text in and out, run_analyzer, and the errors of the function's output field."""

import pytest
from pymilvus import DataType, Function, FunctionType, LexicalHighlighter, MilvusClient, MilvusException


@pytest.fixture(scope="module")
def client(server):
    c = MilvusClient(server.uri, timeout=30)
    yield c
    c.close()


def create_bm25_collection(client, name):
    """An english-analyzed text field and its BM25 function's sparse output, indexed for BM25."""
    schema = client.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("text", DataType.VARCHAR, max_length=1000, enable_analyzer=True, analyzer_params={"type": "english"})
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"], output_field_names=["sparse"]))
    index = client.prepare_index_params()
    index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={"bm25_k1": 1.2, "bm25_b": 0.75})
    client.create_collection(name, schema=schema, index_params=index)


def test_bm25_function_insert_search_and_analyzer(client):
    create_bm25_collection(client, "fts")

    functions = client.describe_collection("fts")["functions"]
    assert [(f["name"], f["type"], f["input_field_names"], f["output_field_names"]) for f in functions] == [
        ("bm25", FunctionType.BM25, ["text"], ["sparse"])
    ]
    client.insert("fts", [
        {"id": 1, "text": "Information retrieval is a field of study."},
        {"id": 2, "text": "Information retrieval focuses on finding relevant information in large datasets."},
        {"id": 3, "text": "Vector databases store embeddings."},
    ])
    hits = client.search("fts", data=["whats the focus of information retrieval?"], anns_field="sparse", limit=3, output_fields=["text"])[0]
    assert [h["id"] for h in hits] == [2, 1]
    assert hits[0]["distance"] > hits[1]["distance"] > 0
    # `*` leaves the BM25 output out; naming it is refused.
    assert "sparse" not in client.query("fts", filter="id == 1", output_fields=["*"])[0]
    with pytest.raises(MilvusException) as error:
        client.query("fts", filter="id == 1", output_fields=["sparse"])
    assert error.value.code == 1100 and "not allowed to retrieve raw data of field sparse" in error.value.message

    tokens = client.run_analyzer(["Milvus is a vector database"], analyzer_params={"type": "english"})
    assert [t.tokens for t in tokens] == [["milvus", "vector", "databas"]]
    detail = client.run_analyzer(["Héllo wörld"], analyzer_params={"type": "standard"}, with_detail=True, with_hash=True)
    first = detail[0].tokens[0]
    assert (first["token"], first["start_offset"], first["end_offset"], first["position"]) == ("héllo", 0, 6, 0)


def test_lexical_highlighter(client):
    """pymilvus's LexicalHighlighter: the BM25 query's terms and TextMatch queries, marked in each hit."""
    create_bm25_collection(client, "highlight")
    client.insert("highlight", [
        {"id": 1, "text": "Information retrieval is a field of study."},
        {"id": 2, "text": "Vector databases store embeddings for retrieval."},
    ])
    highlighter = LexicalHighlighter(highlight_search_text=True, pre_tags=["**"], post_tags=["**"], fragment_size=20)
    highlighter.with_query("text", "embedding", "TextMatch")
    hits = client.search("highlight", data=["retrieving information"], anns_field="sparse", limit=2,
                         output_fields=["text"], highlighter=highlighter)[0]
    marked = {h["id"]: h["highlight"]["text"]["fragments"] for h in hits}
    assert marked == {
        1: ["**Information** **retrieval**"],
        2: ["**embeddings** for **retrieval**"],
    }
    with pytest.raises(MilvusException) as error:
        client.search("highlight", data=["x"], anns_field="sparse", limit=2, highlighter=LexicalHighlighter(pre_tags=[]))
    assert error.value.code == 1100 and "pre_tags cannot be empty list" in error.value.message


def test_text_embedding_functions_are_refused(client):
    schema = client.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("text", DataType.VARCHAR, max_length=100)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=4)
    schema.add_function(Function(name="emb", function_type=FunctionType.TEXTEMBEDDING, input_field_names=["text"],
                                 output_field_names=["dense"], params={"provider": "openai", "model_name": "x"}))
    with pytest.raises(MilvusException) as error:
        client.create_collection("emb", schema=schema)
    assert error.value.code == 1100 and "TextEmbedding functions need a model provider" in error.value.message


def test_text_match_and_phrase_match(client):
    schema = client.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("text", DataType.VARCHAR, max_length=200, enable_analyzer=True, enable_match=True)
    schema.add_field("plain", DataType.VARCHAR, max_length=200, enable_analyzer=True)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=2)
    index = client.prepare_index_params()
    index.add_index(field_name="dense", index_type="FLAT", metric_type="L2")
    client.create_collection("match", schema=schema, index_params=index)
    client.insert("match", [
        {"id": 1, "text": "machine learning boosts efficiency", "plain": "a", "dense": [1, 0]},
        {"id": 2, "text": "learning machine designs", "plain": "b", "dense": [0, 1]},
        {"id": 3, "text": "deep machine learning models", "plain": "c", "dense": [1, 1]},
    ])

    def ids(expr, **kwargs):
        return sorted(r["id"] for r in client.query("match", filter=expr, output_fields=["id"], **kwargs))

    assert ids("text_match(text, 'efficiency designs')") == [1, 2]
    assert ids("text_match(text, 'machine deep', minimum_should_match=2)") == [3]
    assert ids("phrase_match(text, 'machine learning')") == [1, 3]
    assert ids("phrase_match(text, 'machine learning', 2)") == [1, 2, 3]
    assert ids("text_match(text, {q}) and id > 1", filter_params={"q": "machine"}) == [2, 3]
    hits = client.search("match", data=[[0, 0]], anns_field="dense", limit=3, filter="phrase_match(text, 'machine learning')")[0]
    assert sorted(h["id"] for h in hits) == [1, 3]
    with pytest.raises(MilvusException) as error:
        client.query("match", filter="text_match(plain, 'a')")
    assert error.value.code == 1100 and 'field "plain" does not enable match' in error.value.message
