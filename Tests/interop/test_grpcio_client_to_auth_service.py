"""A stock grpcio client calls the real auth service (`imageedit auth`) with stubs from auth.proto.

The service runs as a subprocess against the test PostgreSQL (TEST_DATABASE_URL, or the
`pg-test` cluster that scripts/pg.sh starts), on a free port, with a temporary DATA_DIR (so a
fresh development signing key) and PASSWORD_HASH_ITERATIONS=1000 (fast hashing). Every account
made here has a per-run unique name, so runs share the database safely.

Also: start-up failures (bad configuration, a busy port) end the process with a clear message,
never a crash.

Environment:
  IMAGEEDIT            path of the imageedit executable (default: .build/debug/imageedit)
  TEST_DATABASE_URL    postgres:// URL of a test database (default: start scripts/pg.sh pg-test)
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import grpc
import pytest

from conftest import REPO_ROOT, STARTUP_TIMEOUT_S

SERVICE_NAME = "imageedit.auth.v1.AuthService"
PASSWORD = "correct horse battery"
RPC_TIMEOUT_S = 10.0
# What start-up failures must never print: Swift runtime traps and their backtraces.
CRASH_MARKERS = ("Fatal error", "Backtrace", "Stack dump", "Crash", "SIGSEGV", "SIGILL", "SIGTRAP")


# --- process and database helpers ------------------------------------------------------------


def imageedit_path() -> Path:
    """The imageedit executable; fails the test (never skips) when it has not been built."""
    path = Path(os.environ.get("IMAGEEDIT", REPO_ROOT / ".build" / "debug" / "imageedit"))
    if not path.is_file():
        pytest.fail(f"{path} does not exist: build it first (make build, or swift build --product imageedit)")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def accepts_connections(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=1):
            return True
    except OSError:
        return False


def pg_script(*args: str) -> str:
    result = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "pg.sh"), *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    if result.returncode != 0:
        pytest.fail(f"scripts/pg.sh {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result.stdout.strip()


@pytest.fixture(scope="module")
def database_url():
    """TEST_DATABASE_URL, or this checkout's pg-test cluster (scripts/pg.sh; it moves to a free
    port when another checkout's cluster holds its own), stopped after unless it was running."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    url_before = pg_script("url", "pg-test")
    was_running = accepts_connections(url_before)
    url = pg_script("start", "pg-test")
    yield url
    if not was_running or url != url_before:
        pg_script("stop", "pg-test")


def service_environment(database_url: str, data_dir: str, **overrides: str) -> dict[str, str]:
    """The parent's environment without any of the service's own settings, plus ours."""
    environment = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("AUTH_", "IMAGEEDIT_", "PASSWORD_HASH_", "DATABASE_", "GATEWAY_"))
        and key not in ("BIND_HOST", "DATA_DIR", "LOG_LEVEL")
    }
    environment.update(
        DATABASE_URL=database_url, DATA_DIR=data_dir, BIND_HOST="127.0.0.1",
        PASSWORD_HASH_ITERATIONS="1000",
        # The /metrics listeners are off unless a test asks for one (their default ports are fixed).
        AUTH_METRICS_PORT="0", STORAGE_METRICS_PORT="0", EDIT_METRICS_PORT="0",
    )
    environment.update(overrides)
    return environment


def run_to_exit(environment: dict[str, str], cwd: str, command: str = "auth", timeout_s: float = 60.0) -> subprocess.CompletedProcess:
    """Runs `imageedit <command>` expecting it to stop by itself (a start-up failure)."""
    try:
        return subprocess.run(
            [str(imageedit_path()), command], env=environment, cwd=cwd,
            capture_output=True, text=True, timeout=timeout_s,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"imageedit {command} did not exit within {timeout_s:.0f}s; stderr so far:\n{error.stderr}")


@dataclass
class AuthService:
    process: subprocess.Popen
    port: int
    log_path: Path
    metrics_port: int = 0

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_imageedit(pb, name: str, environment: dict[str, str], port: int, service_name: str, log_path: Path, cwd: str,
                    creds: grpc.ChannelCredentials | None = None) -> subprocess.Popen:
    """Starts `imageedit NAME` and polls its health service (over TLS with `creds`) until
    `service_name` is SERVING; fails the test with the log when it exits or is not in time."""
    with open(log_path, "w") as log_file:
        process = subprocess.Popen([str(imageedit_path()), name], env=environment, cwd=cwd, stdout=log_file, stderr=subprocess.STDOUT)
    target = f"127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    with (grpc.secure_channel(target, creds) if creds else grpc.insecure_channel(target)) as probe:
        health = pb.health_pb2_grpc.HealthStub(probe)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"imageedit {name} exited with {process.returncode} at start\n{log_path.read_text()}")
            try:
                reply = health.Check(pb.health_pb2.HealthCheckRequest(service=service_name), timeout=1)
                if reply.status == pb.health_pb2.HealthCheckResponse.SERVING:
                    return process
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    process.kill()
    pytest.fail(f"imageedit {name} was not SERVING within {STARTUP_TIMEOUT_S:.0f}s\n{log_path.read_text()}")


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 15 s; `process.returncode` tells how it ended."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="module")
def auth_service(pb, database_url, log_dir):
    with tempfile.TemporaryDirectory(prefix="auth-data-") as data_dir:
        port = free_port()
        metrics_port = free_port()
        log_path = log_dir / "imageedit-auth.log"
        environment = service_environment(database_url, data_dir, AUTH_PORT=str(port), AUTH_METRICS_PORT=str(metrics_port))
        process = start_imageedit(pb, "auth", environment, port, SERVICE_NAME, log_path, data_dir)
        service = AuthService(process=process, port=port, log_path=log_path, metrics_port=metrics_port)
        try:
            yield service
        finally:
            stop_process(process)
        assert process.returncode == 0, f"imageedit auth did not exit cleanly on SIGTERM ({process.returncode})\n{service.log()}"


@pytest.fixture(scope="module")
def channel(auth_service):
    with grpc.insecure_channel(auth_service.target) as channel:
        yield channel


@pytest.fixture(scope="module")
def stub(pb, channel):
    return pb.auth_pb2_grpc.AuthServiceStub(channel)


# --- account helpers ---------------------------------------------------------------------------


@dataclass
class Account:
    user_id: int
    username: str
    email: str
    password: str


def unique_names() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:12]
    return f"interop_{tag}", f"interop.{tag}@example.com"


def register(pb, stub, password: str = PASSWORD) -> Account:
    username, email = unique_names()
    reply = stub.Register(pb.auth_pb2.RegisterRequest(username=username, email=email, password=password), timeout=RPC_TIMEOUT_S)
    return Account(user_id=reply.user.id, username=username, email=email, password=password)


def login(pb, stub, account: Account):
    return stub.Login(pb.auth_pb2.LoginRequest(email=account.email, password=account.password), timeout=RPC_TIMEOUT_S)


def rpc_error(call, *args, **kwargs) -> grpc.RpcError:
    """The error `call` fails with; fails the test when it succeeds."""
    with pytest.raises(grpc.RpcError) as raised:
        call(*args, timeout=RPC_TIMEOUT_S, **kwargs)
    return raised.value


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_parts(token: str) -> tuple[dict, dict, bytes, bytes]:
    """(header, claims, signature, signing input) of a compact JWT."""
    header, payload, signature = token.split(".")
    return (json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)),
            b64url_decode(signature), f"{header}.{payload}".encode())


# --- health --------------------------------------------------------------------------------------


class TestHealth:
    @pytest.mark.parametrize("service", [SERVICE_NAME, ""])
    def test_serving(self, pb, channel, service):
        reply = pb.health_pb2_grpc.HealthStub(channel).Check(pb.health_pb2.HealthCheckRequest(service=service), timeout=RPC_TIMEOUT_S)
        assert reply.status == pb.health_pb2.HealthCheckResponse.SERVING

    def test_unknown_service_is_not_found(self, pb, channel):
        error = rpc_error(pb.health_pb2_grpc.HealthStub(channel).Check, pb.health_pb2.HealthCheckRequest(service="no.such.Service"))
        assert error.code() == grpc.StatusCode.NOT_FOUND


# --- metrics -------------------------------------------------------------------------------------


def scrape(service: AuthService, path: str = "/metrics") -> tuple[int, str, str]:
    """GET on the service's metrics listener: (status, content type, body)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{service.metrics_port}{path}", timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode()


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one series in a Prometheus text scrape; 0 when it is absent."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


class TestMetrics:
    """The real executable (swift-metrics bootstrapped with Prometheus) on AUTH_METRICS_PORT."""

    def test_counts_calls_by_method_and_code(self, pb, stub, auth_service):
        method = "/imageedit.auth.v1.AuthService/Register"
        _, _, before = scrape(auth_service)
        register(pb, stub)
        rpc_error(stub.Register, pb.auth_pb2.RegisterRequest(username="", email="nope", password=""))
        status, content_type, after = scrape(auth_service)
        assert status == 200
        assert content_type.startswith("text/plain; version=0.0.4")
        assert sample(after, "imageedit_rpc_server_calls_total", method=method, code="OK") == sample(
            before, "imageedit_rpc_server_calls_total", method=method, code="OK") + 1
        assert sample(after, "imageedit_rpc_server_calls_total", method=method, code="INVALID_ARGUMENT") == sample(
            before, "imageedit_rpc_server_calls_total", method=method, code="INVALID_ARGUMENT") + 1
        assert sample(after, "imageedit_rpc_server_call_duration_seconds_count", method=method) >= 2
        assert sample(after, "imageedit_db_pool_max_connections", service="auth") >= 1
        assert PASSWORD not in after

    def test_other_paths_are_not_found(self, auth_service):
        assert scrape(auth_service, "/")[0] == 404
        assert scrape(auth_service, "/api/user/")[0] == 404
        assert scrape(auth_service, "/healthz")[0] == 200


# --- Register ------------------------------------------------------------------------------------


class TestRegister:
    def test_creates_a_user(self, pb, stub):
        username, email = unique_names()
        before = int(time.time())
        reply = stub.Register(
            pb.auth_pb2.RegisterRequest(username=f"  {username} ", email=f" {email.upper()} ", password=PASSWORD),
            timeout=RPC_TIMEOUT_S)
        assert reply.user.id > 0
        assert reply.user.username == username  # trimmed
        assert reply.user.email == email  # trimmed and lower-cased
        assert reply.user.last_login_at == 0
        assert before - 5 <= reply.user.created_at <= time.time() + 5

    def test_taken_email_is_already_exists(self, pb, stub):
        account = register(pb, stub)
        other_username, _ = unique_names()
        error = rpc_error(stub.Register, pb.auth_pb2.RegisterRequest(
            username=other_username, email=account.email.upper(), password=PASSWORD))
        assert error.code() == grpc.StatusCode.ALREADY_EXISTS
        assert PASSWORD not in (error.details() or "")

    @pytest.mark.parametrize(("field", "username", "email", "password"), [
        ("username", "", "{email}", PASSWORD),
        ("username", "no spaces allowed", "{email}", PASSWORD),
        ("username", "u" * 51, "{email}", PASSWORD),
        ("email", "{username}", "", PASSWORD),
        ("email", "{username}", "not-an-address", PASSWORD),
        ("email", "{username}", "two@@example.com", PASSWORD),
        ("password", "{username}", "{email}", "short"),
        ("password", "{username}", "{email}", "12345678901"),
        ("password", "{username}", "{email}", "p" * 129),
        ("password", "{username}", "{email}", "{username}"),
    ])
    def test_invalid_input_names_the_field(self, pb, stub, field, username, email, password):
        fresh_username, fresh_email = unique_names()
        values = {"username": fresh_username, "email": fresh_email}
        request = pb.auth_pb2.RegisterRequest(
            username=username.format(**values), email=email.format(**values), password=password.format(**values))
        error = rpc_error(stub.Register, request)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field in error.details(), error.details()
        if len(request.password) >= 8:
            assert request.password not in error.details()


# --- Login ---------------------------------------------------------------------------------------


class TestLogin:
    def test_by_email_case_insensitively(self, pb, stub):
        account = register(pb, stub)
        before = int(time.time())
        reply = stub.Login(pb.auth_pb2.LoginRequest(email=account.email.upper(), password=PASSWORD), timeout=RPC_TIMEOUT_S)
        assert reply.user.id == account.user_id
        assert reply.user.last_login_at >= before - 5
        assert reply.tokens.access_token and reply.tokens.refresh_token
        assert reply.tokens.access_expires_in_seconds > 0
        assert reply.tokens.refresh_expires_in_seconds > reply.tokens.access_expires_in_seconds

    def test_by_username(self, pb, stub):
        account = register(pb, stub)
        reply = stub.Login(pb.auth_pb2.LoginRequest(username=account.username, password=PASSWORD), timeout=RPC_TIMEOUT_S)
        assert reply.user.id == account.user_id
        assert reply.user.email == account.email

    def test_unknown_user_and_wrong_password_look_the_same(self, pb, stub):
        account = register(pb, stub)
        unknown_username, unknown_email = unique_names()
        refusals = [
            rpc_error(stub.Login, pb.auth_pb2.LoginRequest(email=account.email, password=PASSWORD + "!")),
            rpc_error(stub.Login, pb.auth_pb2.LoginRequest(username=account.username, password=PASSWORD.upper())),
            rpc_error(stub.Login, pb.auth_pb2.LoginRequest(email=unknown_email, password=PASSWORD)),
            rpc_error(stub.Login, pb.auth_pb2.LoginRequest(username=unknown_username, password=PASSWORD)),
        ]
        assert {error.code() for error in refusals} == {grpc.StatusCode.UNAUTHENTICATED}
        messages = {error.details() for error in refusals}
        assert len(messages) == 1, messages
        assert account.email not in messages.pop()

    def test_password_is_exact(self, pb, stub):
        account = register(pb, stub, password=" spaced password ")
        error = rpc_error(stub.Login, pb.auth_pb2.LoginRequest(email=account.email, password="spaced password"))
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        assert login(pb, stub, account).user.id == account.user_id

    def test_no_identifier_is_invalid_argument(self, pb, stub):
        error = rpc_error(stub.Login, pb.auth_pb2.LoginRequest(password=PASSWORD))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


# --- tokens --------------------------------------------------------------------------------------


class TestTokens:
    def test_refresh_rotates_and_refuses_the_old_token(self, pb, stub):
        account = register(pb, stub)
        first = login(pb, stub, account).tokens
        second = stub.RefreshToken(pb.auth_pb2.RefreshTokenRequest(refresh_token=first.refresh_token), timeout=RPC_TIMEOUT_S).tokens
        assert second.refresh_token != first.refresh_token
        assert second.access_token != first.access_token
        assert jwt_parts(second.access_token)[1]["user_id"] == account.user_id

        replay = rpc_error(stub.RefreshToken, pb.auth_pb2.RefreshTokenRequest(refresh_token=first.refresh_token))
        assert replay.code() == grpc.StatusCode.UNAUTHENTICATED

    @pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
    def test_refresh_refuses_junk(self, pb, stub, token):
        error = rpc_error(stub.RefreshToken, pb.auth_pb2.RefreshTokenRequest(refresh_token=token))
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED

    def test_refresh_refuses_an_access_token(self, pb, stub):
        tokens = login(pb, stub, register(pb, stub)).tokens
        error = rpc_error(stub.RefreshToken, pb.auth_pb2.RefreshTokenRequest(refresh_token=tokens.access_token))
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED

    def test_verify_token(self, pb, stub):
        account = register(pb, stub)
        tokens = login(pb, stub, account).tokens
        now = time.time()
        for token, kind, lifetime in ((tokens.access_token, "access", tokens.access_expires_in_seconds),
                                      (tokens.refresh_token, "refresh", tokens.refresh_expires_in_seconds)):
            reply = stub.VerifyToken(pb.auth_pb2.VerifyTokenRequest(token=token), timeout=RPC_TIMEOUT_S)
            assert reply.user_id == account.user_id
            assert reply.token_type == kind
            assert abs(reply.expires_at - (now + lifetime)) < 10

    def test_verify_refuses_junk_and_tampering(self, pb, stub):
        tokens = login(pb, stub, register(pb, stub)).tokens
        header, payload, signature = tokens.access_token.split(".")
        claims = json.loads(b64url_decode(payload))
        claims["user_id"] += 1
        forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        unsigned = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
        for token in ("", "garbage", f"{header}.{forged_payload}.{signature}", f"{unsigned}.{payload}."):
            error = rpc_error(stub.VerifyToken, pb.auth_pb2.VerifyTokenRequest(token=token))
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED, token

    def test_logout_revokes_the_refresh_token(self, pb, stub):
        tokens = login(pb, stub, register(pb, stub)).tokens
        stub.Logout(pb.auth_pb2.LogoutRequest(refresh_token=tokens.refresh_token), timeout=RPC_TIMEOUT_S)
        error = rpc_error(stub.RefreshToken, pb.auth_pb2.RefreshTokenRequest(refresh_token=tokens.refresh_token))
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        # Idempotent: revoking again succeeds.
        stub.Logout(pb.auth_pb2.LogoutRequest(refresh_token=tokens.refresh_token), timeout=RPC_TIMEOUT_S)

    def test_logout_refuses_invalid_tokens(self, pb, stub):
        tokens = login(pb, stub, register(pb, stub)).tokens
        for token in ("", "garbage", tokens.access_token):
            error = rpc_error(stub.Logout, pb.auth_pb2.LogoutRequest(refresh_token=token))
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED, token


# --- GetUser -------------------------------------------------------------------------------------


class TestGetUser:
    def test_with_an_access_token(self, pb, stub):
        account = register(pb, stub)
        tokens = login(pb, stub, account).tokens
        reply = stub.GetUser(pb.auth_pb2.GetUserRequest(), metadata=[("authorization", f"Bearer {tokens.access_token}")], timeout=RPC_TIMEOUT_S)
        assert (reply.user.id, reply.user.username, reply.user.email) == (account.user_id, account.username, account.email)
        assert reply.user.last_login_at > 0

    def test_without_a_token_is_unauthenticated(self, pb, stub):
        error = rpc_error(stub.GetUser, pb.auth_pb2.GetUserRequest())
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED

    @pytest.mark.parametrize("value", ["Bearer {refresh}", "Bearer", "Bearer garbage", "Basic {access}", "{access}"])
    def test_refuses_anything_but_a_bearer_access_token(self, pb, stub, value):
        tokens = login(pb, stub, register(pb, stub)).tokens
        header = value.format(access=tokens.access_token, refresh=tokens.refresh_token)
        error = rpc_error(stub.GetUser, pb.auth_pb2.GetUserRequest(), metadata=[("authorization", header)])
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED


# --- GetVerificationKeys -------------------------------------------------------------------------


class TestVerificationKeys:
    def test_keys_verify_tokens_in_python(self, pb, stub):
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        keys = stub.GetVerificationKeys(pb.auth_pb2.GetVerificationKeysRequest(), timeout=RPC_TIMEOUT_S).keys
        assert len(keys) >= 1
        for key in keys:
            assert key.algorithm == "EdDSA"
            assert len(key.public_key) == 32
            assert key.key_id
        signing = keys[0]
        public_key = Ed25519PublicKey.from_public_bytes(signing.public_key)

        account = register(pb, stub)
        tokens = login(pb, stub, account).tokens
        for token, kind in ((tokens.access_token, "access"), (tokens.refresh_token, "refresh")):
            header, claims, signature, signing_input = jwt_parts(token)
            assert header["alg"] == "EdDSA"
            assert header["kid"] == signing.key_id
            assert claims["token_type"] == kind
            assert claims["user_id"] == account.user_id
            public_key.verify(signature, signing_input)  # raises InvalidSignature when wrong
            with pytest.raises(InvalidSignature):
                public_key.verify(signature, signing_input + b"x")


# --- start-up failures ---------------------------------------------------------------------------


class TestStartupFailures:
    """A bad setting or a busy port stops `imageedit auth` with one clear line, never a crash."""

    @staticmethod
    def assert_one_clear_line(result: subprocess.CompletedProcess, *needles: str) -> str:
        assert result.returncode > 0, f"exit code {result.returncode} (negative: killed by a signal)\n{result.stderr}"
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{result.stderr}"
        for needle in needles:
            assert needle in lines[0], lines[0]
        for marker in CRASH_MARKERS:
            assert marker not in result.stderr
        return lines[0]

    def test_production_without_signing_key(self, database_url, tmp_path):
        environment = service_environment(database_url, str(tmp_path), IMAGEEDIT_ENV="production",
                                          PASSWORD_HASH_ITERATIONS="600000", AUTH_PORT=str(free_port()))
        result = run_to_exit(environment, cwd=str(tmp_path))
        self.assert_one_clear_line(result, "AUTH_SIGNING_KEY")
        assert not (tmp_path / "auth-signing-key").exists(), "production must not make a development key"

    @pytest.mark.parametrize("value", ["notaport", "0", "70000", "-1"])
    def test_malformed_port(self, database_url, tmp_path, value):
        result = run_to_exit(service_environment(database_url, str(tmp_path), AUTH_PORT=value), cwd=str(tmp_path))
        self.assert_one_clear_line(result, "AUTH_PORT")

    @pytest.mark.parametrize("value", ["notaport", "70000", "-1"])
    def test_malformed_metrics_port(self, database_url, tmp_path, value):
        environment = service_environment(database_url, str(tmp_path), AUTH_PORT=str(free_port()), AUTH_METRICS_PORT=value)
        self.assert_one_clear_line(run_to_exit(environment, cwd=str(tmp_path)), "AUTH_METRICS_PORT")

    @pytest.mark.parametrize(("command", "variable"), [("auth", "AUTH_PORT"), ("gateway", "GATEWAY_PORT"), ("auth", "AUTH_METRICS_PORT")])
    def test_busy_port(self, database_url, tmp_path, command, variable):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            port = holder.getsockname()[1]
            # The gateway dials auth lazily, so an address with nothing behind it is fine here.
            environment = service_environment(database_url, str(tmp_path), **{"AUTH_PORT": str(free_port()), variable: str(port)},
                                              AUTH_ADDRESS=f"127.0.0.1:{free_port()}")
            result = run_to_exit(environment, cwd=str(tmp_path), command=command)
        self.assert_one_clear_line(result, f"127.0.0.1:{port} is already in use", variable)
