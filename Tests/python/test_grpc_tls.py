"""gRPC over TLS (tls.mode 1): ALPN picks h2 for gRPC clients and http/1.1 for HTTPS clients
on the same port."""

import os
import subprocess

import grpc
import pytest
import requests
from pymilvus import MilvusClient
from pymilvus.grpc_gen import milvus_pb2

from conftest import Server


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    cert, key = str(d / "server.pem"), str(d / "server.key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
         "-keyout", key, "-out", cert, "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True)
    config = d / "elanus.yaml"
    config.write_text(f"tls:\n  mode: 1\n  serverPemPath: {cert}\n  serverKeyPath: {key}\n")
    s = Server(extra_args=["--config", str(config)], scheme="https", ca=cert).start()
    s.cert = cert
    yield s
    s.cleanup()


def test_grpc_over_tls_negotiates_h2(tls_server):
    with open(tls_server.cert, "rb") as f:
        credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
    channel = grpc.secure_channel(f"localhost:{tls_server.port}", credentials)
    call = channel.unary_unary(
        "/milvus.proto.milvus.MilvusService/GetVersion", request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=milvus_pb2.GetVersionResponse.FromString)
    assert call(milvus_pb2.GetVersionRequest(), timeout=10).version.startswith("v2.6")
    channel.close()


def test_pymilvus_secure_and_https_rest_share_the_port(tls_server):
    client = MilvusClient(f"https://localhost:{tls_server.port}", server_pem_path=tls_server.cert, server_name="localhost", timeout=20)
    client.create_collection("tls_col", dimension=4)
    client.insert("tls_col", [{"id": 1, "vector": [1.0, 0, 0, 0]}])
    assert client.query("tls_col", filter="id == 1", output_fields=["count(*)"])[0]["count(*)"] == 1
    answer = requests.post(f"https://localhost:{tls_server.port}/v2/vectordb/collections/list", json={}, verify=tls_server.cert).json()
    assert answer["data"] == ["tls_col"]
    client.drop_collection("tls_col")
    client.close()
