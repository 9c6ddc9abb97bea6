#!/usr/bin/python3
"""Checks that the Kubernetes manifests agree with the rewardd binary.

    tests/deploy/check_manifests_agree.py BUILD/rewardd [--no-live] [--overlay NAME ...]

Every overlay under deploy/k8s/overlays is rendered (with
deploy/validate/kustomize-lite.mjs, whose output scripts/validate-deploy.sh
proves equal to `kubectl kustomize`), and for the rewardd container of each:

Static checks (manifests only):
  * every argument is --flag=value, and no flag is given twice;
  * the --listen port is the container port named "grpc", and every gRPC
    probe uses it; the --metrics_listen port is the port named "metrics";
  * the readiness and startup probes ask grpc.health.v1 for the service
    "reward.v1.RewardService"; liveness asks for "" or that service;
  * terminationGracePeriodSeconds > preStop sleep + --drain_grace_seconds +
    --drain_seconds, so the kubelet never kills a pod that is still draining;
  * --rubric_dir is the mount path of a ConfigMap volume mounted without
    subPath (only then do ConfigMap updates reach the pod);
  * --judges_config names a key of a mounted ConfigMap, the key is JSON, and
    --default_judge is "embedded" or a judge that the config names;
  * the pod runs as non-root with a read-only root filesystem.

Binary checks (need the rewardd binary given as the first argument):
  * every flag the manifests pass appears in `rewardd --helpfull`;
  * live (unless --no-live; needs python3-grpcio, else SKIPPED): rewardd is
    started with the overlay's own arguments on loopback ports, with the
    rubric ConfigMap written out in the kubelet's layout (files are symlinks
    into a `..data` symlink to a timestamped directory) and the judges
    ConfigMap likewise; then grpc.health.v1 Check must answer SERVING for
    "reward.v1.RewardService" and for "", GET /metrics on the metrics port
    must answer 200 with rewardd_ series, and SIGTERM must end the process
    with exit status 0 (within drain_seconds + 15 s).

Exit status 0 when everything checked agrees, 1 otherwise. Prints one line
per check and a closing "N passed, N failed" line.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HEALTH_SERVICE = "reward.v1.RewardService"
DEFAULT_DRAIN_SECONDS = 25  # rewardd's default for --drain_seconds
DEFAULT_DRAIN_GRACE_SECONDS = 1  # rewardd's default for --drain_grace_seconds


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok      {what}")
        else:
            self.failed += 1
            print(f"FAIL    {what}" + (f": {detail}" if detail else ""))
        return ok

    def skip(self, what, why):
        self.skipped += 1
        print(f"SKIPPED {what}: {why}")


def render(overlay):
    out = subprocess.run(
        ["node", os.path.join(ROOT, "deploy/validate/kustomize-lite.mjs"),
         "--json", os.path.join(ROOT, "deploy/k8s/overlays", overlay)],
        check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def parse_args(args):
    """Returns ({flag: value}, [problems])."""
    flags, problems = {}, []
    for a in args:
        m = re.fullmatch(r"--([A-Za-z0-9_]+)=(.*)", a, re.S)
        if not m:
            problems.append(f"argument {a!r} is not --flag=value")
            continue
        if m.group(1) in flags:
            problems.append(f"flag --{m.group(1)} given twice")
        flags[m.group(1)] = m.group(2)
    return flags, problems


def port_of(address):
    m = re.search(r":(\d+)$", address or "")
    return int(m.group(1)) if m else None


def helpfull_flags(binary):
    out = subprocess.run([binary, "--helpfull"], capture_output=True, text=True, timeout=30)
    text = out.stdout + out.stderr
    return set(re.findall(r"^\s+--([A-Za-z0-9_]+)\b", text, re.M)), text


def find_obj(objs, kind, name):
    return next((o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name), None)


def mounted_configmaps(pod_spec, container):
    """Returns {mountPath: (volume, mount, ConfigMap name)} for ConfigMap volumes."""
    vols = {v["name"]: v for v in pod_spec.get("volumes", [])}
    out = {}
    for m in container.get("volumeMounts", []):
        v = vols.get(m["name"], {})
        if "configMap" in v:
            out[m["mountPath"].rstrip("/")] = (v, m, v["configMap"]["name"])
    return out


def static_checks(c, overlay, objs):
    """Checks one overlay's rewardd container; returns (flags, configmaps by mount)."""
    dep = find_obj(objs, "Deployment", "rewardd")
    if not c.check(dep is not None, f"[{overlay}] Deployment rewardd exists"):
        return None, None
    pod = dep["spec"]["template"]["spec"]
    ctr = next((x for x in pod["containers"] if x["name"] == "rewardd"), None)
    if not c.check(ctr is not None, f"[{overlay}] container rewardd exists"):
        return None, None
    flags, problems = parse_args(ctr.get("args", []))
    c.check(not problems, f"[{overlay}] arguments are --flag=value, each once", "; ".join(problems))

    ports = {p.get("name"): p["containerPort"] for p in ctr.get("ports", [])}
    grpc_port = port_of(flags.get("listen", "0.0.0.0:50051"))
    metrics_port = port_of(flags.get("metrics_listen", "0.0.0.0:9464"))
    c.check(ports.get("grpc") == grpc_port, f"[{overlay}] --listen port {grpc_port} is container port 'grpc'",
            f"grpc port is {ports.get('grpc')}")
    c.check(ports.get("metrics") == metrics_port,
            f"[{overlay}] --metrics_listen port {metrics_port} is container port 'metrics'",
            f"metrics port is {ports.get('metrics')}")
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = ctr.get(kind)
        if not c.check(probe is not None and "grpc" in probe, f"[{overlay}] {kind} is a gRPC probe"):
            continue
        c.check(probe["grpc"]["port"] == grpc_port, f"[{overlay}] {kind} probes port {grpc_port}",
                f"probes {probe['grpc']['port']}")
        service = probe["grpc"].get("service", "")
        allowed = ("", HEALTH_SERVICE) if kind == "livenessProbe" else (HEALTH_SERVICE,)
        c.check(service in allowed, f"[{overlay}] {kind} health service is one of {allowed}", repr(service))

    drain = int(flags.get("drain_seconds", DEFAULT_DRAIN_SECONDS))
    pre = ctr.get("lifecycle", {}).get("preStop", {})
    pre_sleep = pre.get("sleep", {}).get("seconds")
    if pre_sleep is None:
        cmd = pre.get("exec", {}).get("command", [])
        pre_sleep = int(cmd[1]) if len(cmd) == 2 and cmd[0].endswith("sleep") else 0
    accept = int(flags.get("drain_grace_seconds", DEFAULT_DRAIN_GRACE_SECONDS))
    grace = pod.get("terminationGracePeriodSeconds", 30)
    c.check(grace > pre_sleep + accept + drain,
            f"[{overlay}] terminationGracePeriodSeconds {grace} > preStop {pre_sleep}"
            f" + drain_grace {accept} + drain {drain}")
    c.check(pre_sleep > 0, f"[{overlay}] preStop waits before SIGTERM so endpoints are removed first")

    cms = mounted_configmaps(pod, ctr)
    rubric_dir = flags.get("rubric_dir", "").rstrip("/")
    hit = cms.get(rubric_dir)
    if c.check(hit is not None, f"[{overlay}] --rubric_dir {rubric_dir} is a mounted ConfigMap"):
        c.check("subPath" not in hit[1], f"[{overlay}] rubric ConfigMap mounted without subPath")
        cm = find_obj(objs, "ConfigMap", hit[2])
        c.check(cm is not None and cm.get("data"), f"[{overlay}] rubric ConfigMap {hit[2]} has files")

    judges_cfg = None
    if flags.get("judges_config"):
        path = flags["judges_config"]
        d, key = os.path.dirname(path), os.path.basename(path)
        hit = cms.get(d)
        cm = find_obj(objs, "ConfigMap", hit[2]) if hit else None
        if c.check(cm is not None and key in cm.get("data", {}),
                   f"[{overlay}] --judges_config {path} is a key of a mounted ConfigMap"):
            try:
                judges_cfg = json.loads(cm["data"][key])
                c.check(True, f"[{overlay}] judges config is JSON")
            except ValueError as e:
                c.check(False, f"[{overlay}] judges config is JSON", str(e))
    default = flags.get("default_judge", "embedded")
    names = {"embedded"}
    if isinstance(judges_cfg, dict):
        names |= {j.get("name") for j in judges_cfg.get("judges", []) if isinstance(j, dict)}
    c.check(default in names, f"[{overlay}] --default_judge {default!r} is a configured judge", f"known: {sorted(names)}")

    psc, csc = pod.get("securityContext", {}), ctr.get("securityContext", {})
    c.check(psc.get("runAsNonRoot") or csc.get("runAsNonRoot"), f"[{overlay}] runs as non-root")
    c.check(csc.get("readOnlyRootFilesystem") is True, f"[{overlay}] read-only root filesystem")
    return flags, {p: find_obj(objs, "ConfigMap", v[2]) for p, v in cms.items()}


def write_kubelet_layout(directory, data):
    """Writes ConfigMap data the way the kubelet does: <dir>/..<ts>/<key>,
    <dir>/..data -> ..<ts>, <dir>/<key> -> ..data/<key>."""
    os.makedirs(directory, exist_ok=True)
    ts = "..2025_01_01_00_00_00.000000001"
    os.makedirs(os.path.join(directory, ts))
    for k, v in data.items():
        with open(os.path.join(directory, ts, k), "w") as f:
            f.write(v)
    os.symlink(ts, os.path.join(directory, "..data"))
    for k in data:
        os.symlink(os.path.join("..data", k), os.path.join(directory, k))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health_check(port, service, timeout):
    """grpc.health.v1.Health/Check by hand-encoded protobuf (no generated code).
    Returns the ServingStatus number (1 = SERVING) or None."""
    import grpc  # python3-grpcio
    raw = service.encode()
    length, n = b"", len(raw)
    while True:  # protobuf varint
        length += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
        n >>= 7
        if not n:
            break
    req = b"\x0a" + length + raw if raw else b""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        call = ch.unary_unary("/grpc.health.v1.Health/Check",
                              request_serializer=lambda b: b, response_deserializer=lambda b: b)
        try:
            resp = call(req, timeout=timeout)
        except grpc.RpcError:
            return None
    return resp[1] if len(resp) >= 2 and resp[0] == 0x08 else 0


def live_check(c, overlay, binary, flags, configmaps):
    try:
        import grpc  # noqa: F401
    except ImportError:
        c.skip(f"[{overlay}] live start", "python3-grpcio is not installed")
        return
    tmp = tempfile.mkdtemp(prefix=f"rewardd-{overlay}-")
    proc = None
    try:
        gport, mport = free_port(), free_port()
        args = dict(flags)
        args["listen"] = f"127.0.0.1:{gport}"
        args["metrics_listen"] = f"127.0.0.1:{mport}"
        # Re-root every mounted ConfigMap under tmp, in the kubelet's layout.
        for mount, cm in configmaps.items():
            if cm is None:
                continue
            local = os.path.join(tmp, mount.lstrip("/"))
            write_kubelet_layout(local, cm.get("data", {}))
            for k, v in args.items():
                if v == mount or v.startswith(mount + "/"):
                    args[k] = local + v[len(mount):]
        argv = [binary] + [f"--{k}={v}" for k, v in args.items()]
        log = open(os.path.join(tmp, "rewardd.log"), "w+")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp})
        status = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            status = health_check(gport, HEALTH_SERVICE, 2)
            if status == 1:
                break
            time.sleep(0.3)
        ok = c.check(status == 1, f"[{overlay}] live: health {HEALTH_SERVICE!r} SERVING with the overlay's flags",
                     f"status {status}, exit {proc.poll()}; log: {tail(log)}")
        if ok:
            c.check(health_check(gport, "", 5) == 1, f"[{overlay}] live: overall health '' SERVING")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=10) as r:
                    body = r.read().decode("utf-8", "replace")
                    c.check(r.status == 200 and "rewardd_" in body,
                            f"[{overlay}] live: /metrics on the metrics port has rewardd_ series")
            except OSError as e:
                c.check(False, f"[{overlay}] live: /metrics on the metrics port", str(e))
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            drain = int(flags.get("drain_seconds", DEFAULT_DRAIN_SECONDS))
            try:
                code = proc.wait(timeout=drain + 15)
            except subprocess.TimeoutExpired:
                code = "still running"
            c.check(code == 0, f"[{overlay}] live: SIGTERM ends rewardd with status 0", f"got {code}; log: {tail(log)}")
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def tail(f, n=600):
    f.flush()
    f.seek(0)
    return f.read()[-n:].replace("\n", " | ")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rewardd", nargs="?", help="path to the rewardd binary; omit for static checks only")
    ap.add_argument("--no-live", action="store_true", help="do not start rewardd")
    ap.add_argument("--overlay", action="append", help="overlay name (default: all)")
    a = ap.parse_args()

    c = Checker()
    overlays = a.overlay or sorted(os.listdir(os.path.join(ROOT, "deploy/k8s/overlays")))
    known = None
    if a.rewardd:
        if not os.access(a.rewardd, os.X_OK):
            print(f"FAIL    {a.rewardd} is not an executable file")
            print("0 passed, 1 failed")
            return 1
        known, text = helpfull_flags(a.rewardd)
        c.check(len(known) > 5, "rewardd --helpfull lists flags", text[:300])
    else:
        c.skip("binary checks", "no rewardd binary given")
    for overlay in overlays:
        objs = render(overlay)
        flags, configmaps = static_checks(c, overlay, objs)
        if flags is None or known is None:
            continue
        missing = sorted(set(flags) - known)
        c.check(not missing, f"[{overlay}] every flag the manifests pass exists in rewardd",
                "unknown: " + ", ".join("--" + m for m in missing))
        if not a.no_live and not missing:
            live_check(c, overlay, a.rewardd, flags, configmaps)
    line = f"{c.passed} passed, {c.failed} failed"
    if c.skipped:
        line += f", {c.skipped} skipped"
    print(line)
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
