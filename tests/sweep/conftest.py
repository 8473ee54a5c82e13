"""Fixtures for the sweep tests: the test experiment, fake-executor environment, and a real
PostgreSQL server started from the system's binaries in a temporary folder."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EXPERIMENT = os.path.join(HERE, "fake_experiment.py")
FAKE = "rnnlab.sweep.testing:fake_run_queue"
ROOT = os.path.dirname(os.path.dirname(HERE))
PG_PASSWORD = "s3cret-Pa55"


@pytest.fixture
def worker_env(monkeypatch):
    """Environment for worker processes: this checkout first on the path, slow fake epochs."""
    path = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", ROOT + (os.pathsep + path if path else ""))
    monkeypatch.setenv("RNNLAB_FAKE_EPOCH_SECONDS", "0.05")
    monkeypatch.setenv("JAX_PLATFORMS", "cpu")
    return dict(os.environ)


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    base = "/usr/lib/postgresql"
    if os.path.isdir(base):
        for version in sorted(os.listdir(base), reverse=True):
            path = os.path.join(base, version, "bin", name)
            if os.path.exists(path):
                return path
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user() -> tuple[list[str], str | None]:
    """initdb refuses root: run the server as 'postgres' (or 'nobody') when we are root."""
    if os.geteuid() != 0:
        return [], None
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        runuser = shutil.which("runuser")
        if runuser:
            return [runuser, "-u", user, "--"], user
    pytest.skip("running as root and neither runuser nor a 'postgres'/'nobody' user is here")


@pytest.fixture(scope="session")
def postgres_url():
    """``postgresql://rnnlab:<password>@127.0.0.1:<port>/postgres`` of a fresh server (password
    authentication over TCP), stopped at the end of the session."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) not found; apt-get install postgresql"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg not installed (pip install 'psycopg[binary]')")
    prefix, user = _as_user()
    folder = tempfile.mkdtemp(prefix="rnnlab-pg-")
    data = os.path.join(folder, "data")
    pwfile = os.path.join(folder, "pw")
    with open(pwfile, "w") as f:
        f.write(PG_PASSWORD)
    if user:
        entry = pwd.getpwnam(user)
        for p in (folder, pwfile):
            os.chown(p, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    subprocess.run(
        [
            *prefix,
            initdb,
            "-D",
            data,
            "-U",
            "rnnlab",
            f"--pwfile={pwfile}",
            "--no-sync",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        ],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*prefix, pg_ctl, "-D", data, "-o", opts, "-l", os.path.join(folder, "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        url = f"postgresql://rnnlab:{PG_PASSWORD}@127.0.0.1:{port}/postgres"
        yield url
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True
        )
        time.sleep(0.2)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_database(postgres_url):
    """A fresh database on the session's server, one per test."""
    import psycopg

    name = f"t{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return postgres_url.rsplit("/", 1)[0] + "/" + name
