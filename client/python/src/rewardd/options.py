"""ClientOptions: where rewardd runs and how calls are made.

Mirrors the C++ `RewardClient::Options` (client/reward_client.h): targets,
deadline, retries on UNAVAILABLE with exponential backoff, bearer token,
TLS / mutual TLS. Durations are seconds (floats).

    options = ClientOptions(target="dns:///rewardd.ml.svc:50051", deadline=120)
    options = ClientOptions(target="10.0.0.1:50051,10.0.0.2:50051",
                            bearer_token="...", tls=True, tls_ca_file="ca.pem")

Thread-safety: an immutable value; picklable (certificates and keys are
read from their files in the process that opens a channel, never pickled).
"""

import dataclasses
import json
import os
import re
from typing import List, Optional, Sequence, Tuple, Union

import grpc

#: Environment variable read for the bearer token when `bearer_token` is None.
TOKEN_ENV = "REWARDD_TOKEN"

_IPV4 = re.compile(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")


@dataclasses.dataclass(frozen=True)
class ClientOptions:
    """How RewardClient / AsyncRewardClient reach rewardd."""

    #: "host:port"; "host1:port,host2:port,..." (or a list); or a gRPC URI
    #: such as "dns:///rewardd.ml.svc:50051" (every address the name resolves
    #: to, round robin). IP literals of one family share one channel; host
    #: names get one channel each and calls rotate over them.
    target: Union[str, Sequence[str]] = "127.0.0.1:50051"
    #: Per unary call, retries included (judge calls are slow).
    deadline: float = 60.0
    #: Attempts per unary call for UNAVAILABLE (server down, restarting or
    #: draining); 1 = no retry. Each retry goes to the next channel when
    #: there are several, so a dead replica is failed over.
    max_attempts: int = 4
    #: Backoff before retry k is random in [0, b_k] with b_1 = initial_backoff,
    #: b_{k+1} = min(b_k * backoff_multiplier, max_backoff).
    initial_backoff: float = 0.2
    max_backoff: float = 5.0
    backoff_multiplier: float = 2.0
    #: Wait (up to the deadline) for a server instead of failing at once.
    wait_for_ready: bool = False
    #: Send and receive limit (group responses with explanations are large).
    max_message_bytes: int = 64 << 20
    #: "authorization: Bearer <token>" on every RewardService call. None reads
    #: $REWARDD_TOKEN (in the process that makes the call); "" sends none.
    bearer_token: Optional[str] = None
    #: TLS, checked against tls_ca_file (PEM; None = the system's roots).
    tls: bool = False
    tls_ca_file: Optional[str] = None
    #: Mutual TLS (server started with --tls_client_ca_file): both or neither.
    tls_client_cert_file: Optional[str] = None
    tls_client_key_file: Optional[str] = None
    #: Checked against the server certificate instead of the target's host.
    tls_server_name: Optional[str] = None
    #: gRPC load-balancing policy within a channel.
    lb_policy: str = "round_robin"
    #: Keepalive ping interval in seconds on idle connections (None = off).
    keepalive_time: Optional[float] = None

    def __post_init__(self) -> None:
        if not self.deadline or self.deadline <= 0:
            raise ValueError("ClientOptions.deadline must be positive seconds, got %r" % (self.deadline,))
        if int(self.max_attempts) < 1:
            raise ValueError("ClientOptions.max_attempts must be at least 1, got %r" % (self.max_attempts,))
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.backoff_multiplier < 1:
            raise ValueError("ClientOptions backoff: initial_backoff and max_backoff must be >= 0 "
                             "and backoff_multiplier >= 1")
        if (self.tls_client_cert_file is None) != (self.tls_client_key_file is None):
            raise ValueError("ClientOptions: mutual TLS needs both tls_client_cert_file and "
                             "tls_client_key_file")
        if (self.tls_ca_file or self.tls_client_cert_file) and not self.tls:
            raise ValueError("ClientOptions: tls_ca_file / tls_client_*_file need tls=True")
        if not self.lb_policy or not re.match(r"^[a-z_]+$", self.lb_policy):
            raise ValueError("ClientOptions.lb_policy: bad policy %r" % (self.lb_policy,))
        resolve_targets(self.target)  # fails early on a malformed target

    def token(self) -> str:
        """The bearer token to send ("" = none)."""
        if self.bearer_token is not None:
            return self.bearer_token
        return os.environ.get(TOKEN_ENV, "")

    def metadata(self) -> Tuple[Tuple[str, str], ...]:
        token = self.token()
        return (("authorization", "Bearer " + token),) if token else ()

    def credentials(self) -> Optional[grpc.ChannelCredentials]:
        """TLS credentials, reading the PEM files now; None for plaintext."""
        if not self.tls:
            return None
        return grpc.ssl_channel_credentials(
            root_certificates=_read(self.tls_ca_file, "tls_ca_file"),
            private_key=_read(self.tls_client_key_file, "tls_client_key_file"),
            certificate_chain=_read(self.tls_client_cert_file, "tls_client_cert_file"))

    def channel_args(self) -> List[Tuple[str, object]]:
        args: List[Tuple[str, object]] = [
            ("grpc.max_send_message_length", self.max_message_bytes),
            ("grpc.max_receive_message_length", self.max_message_bytes),
            ("grpc.service_config", json.dumps({"loadBalancingConfig": [{self.lb_policy: {}}]})),
            # Retries are the client's own (they fail over across channels);
            # gRPC's would multiply the attempts.
            ("grpc.enable_retries", 0),
        ]
        if self.tls_server_name:
            args.append(("grpc.ssl_target_name_override", self.tls_server_name))
        if self.keepalive_time:
            args.append(("grpc.keepalive_time_ms", int(self.keepalive_time * 1000)))
            args.append(("grpc.keepalive_permit_without_calls", 1))
        return args


def _read(path: Optional[str], field: str) -> Optional[bytes]:
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise ValueError("ClientOptions.%s: cannot read %s: %s" % (field, path, e.strerror)) from e


def _check_host_port(address: str) -> str:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise ValueError("ClientOptions.target: address %r is not host:port" % (address,))
    return host


def resolve_targets(target: Union[str, Sequence[str]]) -> List[str]:
    """The gRPC target(s) to open a channel to, as the C++ client does.

    One address or URI -> [it]; IP literals of one family -> one
    "ipv4:a,b" / "ipv6:a,b" target (round robin sees every address); host
    names -> one target each.
    """
    if isinstance(target, str):
        text = target.strip()
        if not text:
            raise ValueError("ClientOptions.target is empty")
        if ":/" in text or text.startswith(("ipv4:", "ipv6:", "unix:")):
            return [text]
        addresses = [a.strip() for a in text.split(",") if a.strip()]
    else:
        addresses = [str(a).strip() for a in target if str(a).strip()]
        if len(addresses) == 1 and (":/" in addresses[0] or addresses[0].startswith(("ipv4:", "ipv6:", "unix:"))):
            return addresses
    if not addresses:
        raise ValueError("ClientOptions.target is empty")
    hosts = [_check_host_port(a) for a in addresses]
    if len(addresses) == 1:
        return addresses
    if all(_IPV4.match(h) for h in hosts):
        return ["ipv4:" + ",".join(addresses)]
    if all(h.startswith("[") for h in hosts):
        return ["ipv6:" + ",".join(addresses)]
    return addresses
