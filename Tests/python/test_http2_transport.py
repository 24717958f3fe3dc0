"""The HTTP/2 transport under real peers: grpcio (the C core pymilvus uses), curl with nghttp2,
and raw sockets for what well-behaved clients never send."""

import concurrent.futures
import os
import socket
import struct
import subprocess
import threading
import time

import grpc
import pytest
import requests
from pymilvus import MilvusClient
from pymilvus.grpc_gen import milvus_pb2

SERVICE = "/milvus.proto.milvus.MilvusService/"


def unary(channel, method, request, response_type, **kwargs):
    call = channel.unary_unary(SERVICE + method, request_serializer=lambda m: m.SerializeToString(), response_deserializer=response_type.FromString)
    return call(request, **kwargs)


@pytest.fixture(scope="module")
def channel(server):
    ch = grpc.insecure_channel(f"127.0.0.1:{server.port}", options=[("grpc.max_receive_message_length", 256 << 20)])
    yield ch
    ch.close()


def test_http1_and_h2c_share_the_port(server):
    plain = requests.post(f"{server.uri}/v2/vectordb/collections/list", json={}).json()
    out = subprocess.run(
        ["curl", "-s", "--http2-prior-knowledge", "-X", "POST", "-H", "Content-Type: application/json", "-d", "{}",
         "-w", "\n%{http_version}", f"{server.uri}/v2/vectordb/collections/list"],
        capture_output=True, text=True, timeout=30, check=True)
    body, version = out.stdout.rsplit("\n", 1)
    assert version == "2"
    assert requests.models.complexjson.loads(body) == plain


def test_unknown_method_is_unimplemented(channel):
    call = channel.unary_unary("/milvus.proto.milvus.MilvusService/NoSuchMethod", request_serializer=bytes, response_deserializer=bytes)
    with pytest.raises(grpc.RpcError) as e:
        call(b"")
    assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_method_not_built_answers_a_milvus_status(channel):
    # A method of the service that Elanus does not build: OK at the gRPC level, Milvus code 10.
    response = unary(channel, "GetMetrics", milvus_pb2.GetMetricsRequest(request='{"metric_type":"system_info"}'), milvus_pb2.GetMetricsResponse)
    assert response.status.code == 10
    assert "GetMetrics" in response.status.reason


def test_compression_is_refused_clearly(server):
    ch = grpc.insecure_channel(f"127.0.0.1:{server.port}", compression=grpc.Compression.Gzip)
    try:
        with pytest.raises(grpc.RpcError) as e:
            unary(ch, "GetVersion", milvus_pb2.GetVersionRequest(), milvus_pb2.GetVersionResponse)
        assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert "identity" in e.value.details()
    finally:
        ch.close()


def test_many_concurrent_calls_on_one_connection(server, channel):
    client = MilvusClient(server.uri, timeout=30)
    client.create_collection("h2_conc", dimension=8)
    client.insert("h2_conc", [{"id": i, "vector": [float(i)] * 8} for i in range(500)])
    request = milvus_pb2.GetVersionRequest()
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        futures = [pool.submit(unary, channel, "GetVersion", request, milvus_pb2.GetVersionResponse) for _ in range(400)]
        assert all(f.result().version.startswith("v2.6") for f in futures)
        searches = [pool.submit(client.search, "h2_conc", data=[[float(i)] * 8], limit=3) for i in range(64)]
        assert all(len(f.result()[0]) == 3 for f in searches)
    client.drop_collection("h2_conc")
    client.close()


def test_large_answers_flow_past_the_windows(server):
    client = MilvusClient(server.uri, timeout=60)
    client.create_collection("h2_big", dimension=128)
    rows = [{"id": i, "vector": [float(i % 97) / 97] * 128} for i in range(20000)]
    for start in range(0, len(rows), 5000):
        client.insert("h2_big", rows[start:start + 5000])
    # About 11 MB of vectors in one answer: far beyond the 1 MiB stream queue and 64 KiB windows.
    got = client.query("h2_big", filter="id >= 0", output_fields=["vector"], limit=16384)
    assert len(got) == 16384 and len(got[100]["vector"]) == 128
    client.drop_collection("h2_big")
    client.close()


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def read_frames(sock, deadline=5.0):
    sock.settimeout(deadline)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    frames = []
    while len(data) >= 9:
        length = int.from_bytes(data[:3], "big")
        frames.append((data[3], data[4], int.from_bytes(data[5:9], "big") & 0x7FFFFFFF, data[9:9 + length]))
        data = data[9 + length:]
    return frames


def test_protocol_errors_get_goaway_and_the_server_lives_on(server):
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    # DATA on stream 0 is a connection error: PROTOCOL_ERROR (1) in a GOAWAY (7).
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(preface + frame(4, 0, 0) + frame(0, 0, 0, b"x"))
        frames = read_frames(s, 3)
        goaways = [f for f in frames if f[0] == 7]
        assert goaways and int.from_bytes(goaways[0][3][4:8], "big") == 1
    # A flood of PINGs that are never read is cut off with ENHANCE_YOUR_CALM, not buffered.
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        burst = preface + frame(4, 0, 0) + frame(6, 0, 0, b"12345678") * 20000
        try:
            s.sendall(burst)
        except OSError:
            pass
    # Random bytes after the preface never take the server down.
    for seed in range(20):
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            junk = bytes((seed * 7919 + i * 104729) % 256 for i in range(2000))
            try:
                s.sendall(preface + junk)
                read_frames(s, 0.2)
            except OSError:
                pass
    assert requests.post(f"{server.uri}/v2/vectordb/collections/list", json={}).json()["code"] == 0


def test_rapid_reset_is_cut_off(server):
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    # HEADERS (a minimal HPACK block: :method POST, :scheme http, :path /) then RST_STREAM, over and over.
    block = bytes([0x83, 0x86, 0x84])
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        out = preface + frame(4, 0, 0)
        for i in range(500):
            stream = 2 * i + 1
            out += frame(1, 0x4, stream, block) + frame(3, 0, stream, struct.pack(">I", 8))
        try:
            s.sendall(out)
        except OSError:
            pass
        frames = read_frames(s, 3)
        goaways = [f for f in frames if f[0] == 7]
        assert goaways and int.from_bytes(goaways[-1][3][4:8], "big") == 0xB  # ENHANCE_YOUR_CALM
    assert requests.post(f"{server.uri}/v2/vectordb/collections/list", json={}).json()["code"] == 0


def test_graceful_shutdown_sends_goaway(tmp_path):
    from conftest import Server

    s = Server().start()
    try:
        ch = grpc.insecure_channel(f"127.0.0.1:{s.port}")
        assert unary(ch, "GetVersion", milvus_pb2.GetVersionRequest(), milvus_pb2.GetVersionResponse).version
        raw = socket.create_connection(("127.0.0.1", s.port))
        raw.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0))
        time.sleep(0.3)
        s.process.terminate()
        frames = read_frames(raw, 5)
        assert any(f[0] == 7 for f in frames), "the server said GOAWAY before closing"
        raw.close()
        ch.close()
        assert s.process.wait(20) == 0
    finally:
        s.cleanup()


def test_randomized_frames_never_take_the_server_down(server):
    import random

    rng = random.Random(20261205)
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    hpack = [bytes([0x83, 0x86, 0x84]), bytes([0x83, 0x86, 0x84, 0x5f, 0x10]) + b"application/grpc", bytes([0x3f, 0xe1, 0x1f]), b"\xff" * 8]
    for connection in range(150):
        frames = [frame(4, 0, 0)] if rng.random() < 0.8 else []
        for _ in range(rng.randint(1, 40)):
            kind = rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, rng.randint(10, 255)])
            flags = rng.choice([0, 1, 4, 5, 8, 0x20, rng.randint(0, 255)])
            stream = rng.choice([0, 1, 3, 5, 2, rng.randint(0, 1 << 31)])
            if kind == 1:
                payload = rng.choice(hpack)
            elif kind == 4:
                payload = b"".join(struct.pack(">HI", rng.randint(0, 8), rng.choice([0, 1, 100, 1 << 14, 1 << 31, rng.randint(0, 1 << 32 - 1)])) for _ in range(rng.randint(0, 4)))
            elif kind == 8:
                payload = struct.pack(">I", rng.choice([0, 1, 1 << 31 - 1, rng.randint(0, (1 << 32) - 1)]))
            else:
                payload = bytes(rng.randint(0, 255) for _ in range(rng.choice([0, 1, 4, 8, 13, 100])))
            frames.append(frame(kind, flags, stream, payload))
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            try:
                s.sendall(preface + b"".join(frames))
                read_frames(s, 0.05)
            except OSError:
                pass
    assert server.process.poll() is None
    ch = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    assert unary(ch, "GetVersion", milvus_pb2.GetVersionRequest(), milvus_pb2.GetVersionResponse, timeout=10).version
    ch.close()


def hpack_literal(name, value):
    """A header field as an HPACK literal without indexing, new name, no Huffman (short strings)."""
    assert len(name) < 127 and len(value) < 127
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def rest_headers(path):
    return b"".join(hpack_literal(n, v) for n, v in [
        (b":method", b"POST"), (b":scheme", b"http"), (b":path", path), (b":authority", b"127.0.0.1"),
        (b"content-type", b"application/json")])


@pytest.fixture(scope="module")
def impatient_server():
    from conftest import Server

    s = Server(env={"ELANUS_SERVER_IDLE_TIMEOUT_SECONDS": "2", "ELANUS_SERVER_REQUEST_TIMEOUT_SECONDS": "2",
                    "ELANUS_SERVER_WRITE_TIMEOUT_SECONDS": "2"}).start()
    yield s
    s.cleanup()


def test_pings_do_not_keep_an_idle_connection_open(impatient_server):
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    with socket.create_connection(("127.0.0.1", impatient_server.port)) as s:
        s.sendall(preface + frame(4, 0, 0))
        start = time.time()
        frames = []
        closed = False
        while time.time() - start < 8 and not closed:
            try:
                s.sendall(frame(6, 0, 0, b"keepaliv"))
            except OSError:
                break
            s.settimeout(0.3)
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        closed = True
                        break
                    frames.append(chunk)
            except socket.timeout:
                pass
            except OSError:
                closed = True
        elapsed = time.time() - start
        assert closed and elapsed < 6, f"an idle connection sending only PINGs stayed open {elapsed:.1f} s"
        assert b"idle timeout" in b"".join(frames)


def test_a_request_body_that_never_finishes_is_reset(impatient_server):
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    with socket.create_connection(("127.0.0.1", impatient_server.port)) as s:
        # HEADERS without END_STREAM, then a few body bytes, then nothing.
        s.sendall(preface + frame(4, 0, 0) + frame(1, 0x4, 1, rest_headers(b"/v2/vectordb/collections/list")) + frame(0, 0, 1, b"{"))
        frames = read_frames(s, 5)
        resets = [f for f in frames if f[0] == 3 and f[2] == 1]
        assert resets and int.from_bytes(resets[0][3], "big") == 8  # CANCEL


def test_a_peer_that_does_not_read_is_cut_off_and_blocks_nobody(impatient_server):
    client = MilvusClient(impatient_server.uri, timeout=60)
    client.create_collection("h2_unread", dimension=128)
    client.insert("h2_unread", [{"id": i, "vector": [0.5] * 128} for i in range(3000)])
    body = b'{"collectionName":"h2_unread","filter":"id >= 0","outputFields":["vector"],"limit":3000}'
    answer_bytes = len(requests.post(f"{impatient_server.uri}/v2/vectordb/entities/query", data=body, timeout=30).content)
    streams = 8
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    # Settings: the largest stream window; the connection window opened as far as it goes.
    settings = frame(4, 0, 0, struct.pack(">HI", 4, (1 << 31) - 1))
    window = frame(8, 0, 0, struct.pack(">I", (1 << 31) - 1 - 65535))
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", impatient_server.port))
    try:
        requests_ = b"".join(frame(1, 0x4, 2 * i + 1, rest_headers(b"/v2/vectordb/entities/query")) + frame(0, 0x1, 2 * i + 1, body) for i in range(streams))
        s.sendall(preface + settings + window + requests_)
        time.sleep(0.5)
        # Other clients are answered at once while the answers wait on a peer that reads nothing.
        began = time.time()
        for _ in range(5):
            assert requests.post(f"{impatient_server.uri}/v2/vectordb/collections/list", json={}, timeout=5).json()["code"] == 0
        assert time.time() - began < 2
        assert client.query("h2_unread", filter="id == 7", output_fields=["id"])[0]["id"] == 7
        # The answers take a while to compute on a busy machine, and the write timeout runs from
        # the last byte that moved: wait for the server to say it gave up, not for a fixed time.
        log = os.path.join(impatient_server.data, "server.log")
        deadline = time.time() + 60
        while time.time() < deadline:
            with open(log, "rb") as f:
                if b"HTTP/2 peer reads no answers" in f.read():
                    break
            time.sleep(0.2)
        else:
            raise AssertionError("the server never gave up on a peer that reads nothing")
        # The server gave up on this peer: what it reads now ends, well short of the whole answers
        # (what it gets is what the kernel's buffers held).
        s.settimeout(10)
        total = 0
        try:
            while True:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                total += len(chunk)
        except ConnectionResetError:
            pass
        assert total < streams * answer_bytes // 2, f"read {total} of {streams * answer_bytes} bytes: the answers were not cut off"
    finally:
        s.close()
    client.drop_collection("h2_unread")
    client.close()
