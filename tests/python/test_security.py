"""TLS, mutual TLS and bearer tokens (docs/security.md) from the Python
client, against rewardd started with certificates made by openssl."""

import asyncio

import grpc
import pytest

from rewardd import AsyncRewardClient, Request, RewardClient, RewardError
from conftest import RUBRICS
from test_client import GOOD

TOKEN = "py-token-5678"


def _grade(client):
    return client.grade(GOOD, rubric_set="demo", rubric_id="arith-1")


@pytest.fixture(scope="module")
def tokens(tmp_path_factory):
    path = tmp_path_factory.mktemp("tokens") / "tokens"
    path.write_text("# test tokens\n" + TOKEN + "\n")
    return str(path)


@pytest.fixture(scope="module")
def mtls_server(start_rewardd, certs, tokens):
    """TLS with client certificates required, and tokens."""
    return start_rewardd("--rubric_dir=" + RUBRICS, "--tls_cert_file=%s" % (certs / "server.pem"),
                         "--tls_key_file=%s" % (certs / "server.key"),
                         "--tls_client_ca_file=%s" % (certs / "ca.pem"),
                         "--auth_token_files=" + tokens,
                         tls=True, tls_ca_file=str(certs / "ca.pem"),
                         tls_client_cert_file=str(certs / "client.pem"),
                         tls_client_key_file=str(certs / "client.key"))


def test_tls_server(start_rewardd, certs):
    server = start_rewardd("--rubric_dir=" + RUBRICS, "--tls_cert_file=%s" % (certs / "server.pem"),
                           "--tls_key_file=%s" % (certs / "server.key"),
                           tls=True, tls_ca_file=str(certs / "ca.pem"))
    ok = RewardClient(server.address, tls=True, tls_ca_file=str(certs / "ca.pem"), max_attempts=1)
    assert _grade(ok).valid and ok.health() == "SERVING"
    async def main():
        c = AsyncRewardClient(server.address, tls=True, tls_ca_file=str(certs / "ca.pem"))
        assert (await c.grade(GOOD, rubric_set="demo", rubric_id="arith-1")).valid
    asyncio.run(main())
    for bad in (RewardClient(server.address, max_attempts=1, deadline=10),  # plaintext
                RewardClient(server.address, tls=True, max_attempts=1, deadline=10)):  # system roots
        with pytest.raises(RewardError) as e:
            _grade(bad)
        assert e.value.code == grpc.StatusCode.UNAVAILABLE


def test_mutual_tls_needs_a_client_certificate(mtls_server, certs):
    ca = str(certs / "ca.pem")
    with_cert = RewardClient(mtls_server.address, tls=True, tls_ca_file=ca, bearer_token=TOKEN,
                             tls_client_cert_file=str(certs / "client.pem"),
                             tls_client_key_file=str(certs / "client.key"), max_attempts=1)
    assert _grade(with_cert).valid
    without = RewardClient(mtls_server.address, tls=True, tls_ca_file=ca, bearer_token=TOKEN,
                           max_attempts=1, deadline=10)
    with pytest.raises(RewardError) as e:
        _grade(without)
    assert e.value.code == grpc.StatusCode.UNAVAILABLE
    with pytest.raises(ValueError, match="tls_client_key_file"):
        RewardClient(mtls_server.address, tls=True, tls_client_cert_file=str(certs / "client.pem"))
    missing = RewardClient(mtls_server.address, tls=True, tls_ca_file=str(certs / "nope.pem"))
    with pytest.raises(ValueError, match="tls_ca_file"):
        missing.health()


def test_bearer_token(mtls_server, certs, monkeypatch):
    base = dict(tls=True, tls_ca_file=str(certs / "ca.pem"),
                tls_client_cert_file=str(certs / "client.pem"),
                tls_client_key_file=str(certs / "client.key"), max_attempts=1)
    monkeypatch.delenv("REWARDD_TOKEN", raising=False)
    anonymous = RewardClient(mtls_server.address, **base)
    assert anonymous.health() == "SERVING"  # health stays open
    for client in (anonymous, RewardClient(mtls_server.address, bearer_token=TOKEN[:-1], **base)):
        with pytest.raises(RewardError) as e:
            _grade(client)
        assert e.value.code == grpc.StatusCode.UNAUTHENTICATED
        assert TOKEN[:-1] not in e.value.message
        with pytest.raises(RewardError) as e:
            client.list_rubric_sets()
        assert e.value.code == grpc.StatusCode.UNAUTHENTICATED
    assert _grade(RewardClient(mtls_server.address, bearer_token=TOKEN, **base)).valid
    # bearer_token=None reads $REWARDD_TOKEN in the calling process; "" sends none.
    monkeypatch.setenv("REWARDD_TOKEN", TOKEN)
    assert _grade(RewardClient(mtls_server.address, **base)).valid
    with pytest.raises(RewardError):
        _grade(RewardClient(mtls_server.address, bearer_token="", **base))

    async def stream_without_token():
        c = AsyncRewardClient(mtls_server.address, bearer_token="", **base)
        async for _ in c.stream([Request(GOOD, rubric_set="demo", rubric_id="arith-1")]):
            pass
    with pytest.raises(RewardError) as e:
        asyncio.run(stream_without_token())
    assert e.value.code == grpc.StatusCode.UNAUTHENTICATED
    assert TOKEN not in mtls_server.log()
