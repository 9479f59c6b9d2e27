"""Fixtures for the management API tests: Portico's binary with --admin-listen, and echo
backends, all real servers on 127.0.0.1 with ports chosen by the kernel."""

import json
import os
import re
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import botocore.config
import pytest

ROOT = Path(__file__).resolve().parents[2]
NLB_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/internal/50dc6c495c0c9188"


def portico_binary():
    return os.environ.get("PORTICO_BIN") or str(ROOT / "target" / "debug" / "portico")


class Echo(BaseHTTPRequestHandler):
    """Answers every request with what it received, as JSON; `/status/NNN` answers NNN."""

    protocol_version = "HTTP/1.1"

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        path, _, query = self.path.partition("?")
        match = re.search(r"/status/(\d{3})", path)
        status = int(match.group(1)) if match else 200
        payload = json.dumps({
            "server": self.server.name,
            "method": self.command,
            "path": path,
            "query": query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
        }).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = answer

    def log_message(self, *args):
        pass


def start_echo(name):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    server.name = name
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="session")
def public_backend():
    server = start_echo("public")
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def private_backend():
    server = start_echo("private")
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()


class Portico:
    """A running `portico serve --admin-listen`, its addresses, and a boto3 client for it."""

    def __init__(self, tmp, seed=None, state=None, credentials=None, extra=()):
        self.tmp = Path(tmp)
        self.state = state
        self.args = [portico_binary(), "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"]
        if seed:
            path = self.tmp / "seed.json"
            path.write_text(json.dumps(seed))
            self.args += ["--config", str(path)]
        if state:
            self.args += ["--state", str(state)]
        if credentials:
            path = self.tmp / "credentials"
            path.write_text("".join(f"{k} {v}\n" for k, v in credentials.items()))
            self.args += ["--admin-credentials", str(path)]
        self.args += list(extra)
        self.start()

    def start(self):
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.admin_url = self.data_url = None
        deadline = time.time() + 30
        while time.time() < deadline and not (self.admin_url and self.data_url):
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"portico exited with {self.process.wait()}")
            if m := re.match(r"Management API on (http://\S+)", line):
                self.admin_url = m.group(1)
            if m := re.search(r"serving the deployed APIs on (http://\S+)", line):
                self.data_url = m.group(1)
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def client(self, key="AKIDEXAMPLE", secret="secret"):
        return boto3.client(
            "apigateway",
            endpoint_url=self.admin_url,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=botocore.config.Config(retries={"max_attempts": 1}),
        )

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def seed_document(private_backend):
    """What the environment needs: the load balancer behind VPC links. APIs come from boto3."""
    return {
        "restApi": {"name": "seeded"},
        "networkLoadBalancers": [{"arn": NLB_ARN, "listeners": [{"port": 80, "targets": [private_backend]}]}],
    }


@pytest.fixture
def portico(tmp_path, private_backend):
    p = Portico(tmp_path, seed=seed_document(private_backend), state=tmp_path / "state")
    yield p
    p.stop()


@pytest.fixture
def start_portico(tmp_path, private_backend):
    """Starts more instances (restarts, credentials); stops them all at the end."""
    started = []

    def start(**kwargs):
        kwargs.setdefault("seed", seed_document(private_backend))
        p = Portico(tmp_path, **kwargs)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()
