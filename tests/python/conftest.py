"""Fixtures: real rewardd processes on loopback, test certificates, judges.

rewardd is the binary in $REWARDD_BINARY (ctest sets it; by hand:
REWARDD_BINARY=build/server/main/rewardd PYTHONPATH=build/python). Each
process listens on a kernel-picked port (--listen=127.0.0.1:0) read back
from --port_file, like tests/integration/rewardd_process.cc, is killed at
the end of the session, and dies with pytest (PR_SET_PDEATHSIG, set by
setpriv), so a crashed or timed-out run leaves no rewardd holding ctest's
output pipe.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

import rewardd  # noqa: F401  (before any test module imports grpc)

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("REWARDD_SOURCE_DIR",
                            os.path.abspath(os.path.join(HERE, "..", "..")))
RUBRICS = os.path.join(SOURCE_DIR, "examples", "rubrics")
SHARED_DATA = os.environ.get("REWARDD_SHARED_DATA",
                             os.path.abspath(os.path.join(SOURCE_DIR, "..", "shared", "data")))


def _binary(env, default):
    path = os.environ.get(env) or os.path.join(SOURCE_DIR, default)
    if not os.access(path, os.X_OK):
        pytest.fail("%s: %s is not an executable; build it (ninja -C build rewardd) or set %s"
                    % (env, path, env))
    return path


def die_with_parent(argv):
    """`argv` run so that it is SIGKILLed when pytest dies: util-linux's
    setpriv sets PR_SET_PDEATHSIG, then execs it (same pid). Not a Popen
    preexec_fn: that runs Python in the forked child of a process with gRPC
    threads, where loading libc (dlopen) can deadlock on a lock another
    thread held at the fork, and Popen then waits for the exec forever."""
    return ["setpriv", "--pdeathsig", "KILL", "--"] + list(argv)


class Rewardd:
    """A rewardd process; `address` is 127.0.0.1:<port>."""

    def __init__(self, args, binary):
        self.dir = tempfile.mkdtemp(prefix="rewardd-py-")
        self.port_file = os.path.join(self.dir, "port")
        self.log_path = os.path.join(self.dir, "stderr.log")
        self.args = args
        self.binary = binary
        self.proc = None
        self.port = 0

    def start(self, timeout=30.0, **client_kwargs):
        """Starts rewardd and waits until health is SERVING (rubric sets
        loaded), asking with a RewardClient made with `client_kwargs`."""
        self.spawn(timeout)
        from rewardd import RewardClient
        client = RewardClient(self.address, wait_for_ready=True, deadline=timeout, **client_kwargs)
        end = time.monotonic() + timeout
        while client.health() != "SERVING":
            if time.monotonic() > end:
                raise RuntimeError("rewardd did not turn SERVING: " + self.log())
            time.sleep(0.02)
        client.close()
        return self

    def spawn(self, timeout):
        argv = [self.binary, "--listen=127.0.0.1:0", "--port_file=" + self.port_file]
        if not any(a.startswith("--metrics_listen") for a in self.args):
            argv.append("--metrics_listen=127.0.0.1:0")
        argv += self.args
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(die_with_parent(argv), stdout=subprocess.DEVNULL,
                                         stderr=log)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if os.path.exists(self.port_file):
                text = open(self.port_file).read().strip()
                if text:
                    self.port = int(text)
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError("rewardd exited during start-up: " + self.log())
            time.sleep(0.02)
        raise RuntimeError("rewardd did not listen in time: " + self.log())

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def log(self):
        try:
            return open(self.log_path, errors="replace").read()
        except OSError:
            return ""

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def rewardd_binary():
    return _binary("REWARDD_BINARY", "build/server/main/rewardd")


@pytest.fixture(scope="session")
def start_rewardd(rewardd_binary):
    """start_rewardd(*flags, **client_kwargs) -> a SERVING Rewardd, stopped at
    session end (client_kwargs: ClientOptions for the readiness check)."""
    started = []

    def start(*flags, **client_kwargs):
        r = Rewardd(list(flags), rewardd_binary)
        started.append(r)  # stopped at the end even when it fails to start
        return r.start(**client_kwargs)

    yield start
    for r in started:
        r.stop()


@pytest.fixture(scope="session")
def silent_port():
    """A loopback port that accepts connections (the kernel completes the
    handshake) and never answers: a hung judge."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    yield s.getsockname()[1]
    s.close()


@pytest.fixture(scope="session")
def judges_config(tmp_path_factory, silent_port):
    """The embedded judge by default, plus "broken": an HTTP judge at a
    closed port, whose every call fails (JUDGE_ERROR: an invalid result),
    and "hang": one that never answers (for deadlines)."""
    path = tmp_path_factory.mktemp("judges") / "judges.json"
    path.write_text(json.dumps({
        "judges": [
            {"name": "broken", "replicas": ["http://127.0.0.1:%d/v1" % closed_port()],
             "model": "none", "timeout_ms": 5000,
             "pool": {"max_attempts": 1, "breaker_failures": 1000000}},
            {"name": "hang", "replicas": ["http://127.0.0.1:%d/v1" % silent_port],
             "model": "none", "timeout_ms": 600000, "pool": {"max_attempts": 1}},
        ],
    }))
    return str(path)


@pytest.fixture(scope="session")
def server(start_rewardd, judges_config):
    """One shared rewardd: examples/rubrics, the embedded judge, "broken"."""
    return start_rewardd("--rubric_dir=" + RUBRICS, "--judges_config=" + judges_config,
                         "--default_judge=embedded")


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    """A CA, a server certificate for 127.0.0.1 and a client certificate,
    made by the openssl CLI."""
    d = tmp_path_factory.mktemp("certs")

    def run(*args):
        subprocess.run(["openssl"] + list(args), cwd=d, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
        "-keyout", "ca.key", "-out", "ca.pem")
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
                      ("client", "extendedKeyUsage=clientAuth")):
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name,
            "-keyout", name + ".key", "-out", name + ".csr")
        (d / (name + ".ext")).write_text(ext + "\n")
        run("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem")
    return d
