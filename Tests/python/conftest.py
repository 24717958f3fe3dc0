"""Starts the real `elanus` binary for the Python tests, the way a user would: its own data
directory, a free port, the debug build that `swift build` made (or ELANUS_BINARY)."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("ELANUS_BINARY", os.path.join(ROOT, ".build", "debug", "elanus"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, auth=False, extra_args=(), scheme="http", ca=None, env=None):
        self.data = tempfile.mkdtemp(prefix="elanus-py-")
        self.port = free_port()
        self.auth = auth
        self.extra_args = list(extra_args)
        self.scheme = scheme
        self.ca = ca
        self.env = dict(os.environ, **(env or {}))
        self.log = open(os.path.join(self.data, "server.log"), "wb")
        self.process = None

    @property
    def uri(self):
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self):
        args = [BINARY, "serve", "--data-dir", os.path.join(self.data, "data"), "--port", str(self.port), "--log-level", "info"]
        if self.auth:
            args.append("--auth")
        args += self.extra_args
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"elanus exited with {self.process.returncode}; log in {self.log.name}")
            try:
                headers = {"Authorization": "Bearer root:Milvus"} if self.auth else {}
                base = f"{self.scheme}://localhost:{self.port}" if self.ca else self.uri
                r = requests.post(base + "/v2/vectordb/collections/list", json={}, headers=headers, timeout=1, verify=self.ca or True)
                if r.json().get("code") == 0:
                    return self
            except (requests.ConnectionError, requests.Timeout, ValueError):
                pass
            time.sleep(0.1)
        raise RuntimeError("elanus did not become ready within 60 s")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def restart(self):
        self.stop()
        self.log = open(os.path.join(self.data, "server.log"), "ab")
        return self.start()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)


@pytest.fixture(scope="module")
def server():
    s = Server().start()
    yield s
    s.cleanup()


@pytest.fixture(scope="module")
def auth_server():
    s = Server(auth=True).start()
    yield s
    s.cleanup()


def pytest_configure(config):
    # pymilvus marks its ORM deprecated; the ORM is tested because applications still use it.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning")
    config.addinivalue_line("filterwarnings", "ignore::FutureWarning")
