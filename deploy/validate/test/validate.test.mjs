// Proves the validator rejects the mistakes it exists to catch, accepts the
// real overlays, and that kustomize-lite renders what kustomize renders.
//
//   node --test deploy/validate/test/

import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { validateText } from "../validate.mjs";
import { render, toYaml, strategicMerge, jsonPatch } from "../kustomize-lite.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const k8s = path.resolve(here, "../../k8s");
const overlays = fs.readdirSync(path.join(k8s, "overlays"));

function prod() {
  return render(path.join(k8s, "overlays/prod"));
}
const find = (objs, kind, name) => objs.find((o) => o.kind === kind && o.metadata.name === name);
const rewardd = (objs) => find(objs, "Deployment", "rewardd");
const container = (objs) => rewardd(objs).spec.template.spec.containers[0];

async function failuresOf(objs, opts) {
  return (await validateText(toYaml(objs), "test", opts)).failures;
}

async function assertRejected(mutate, pattern) {
  const objs = prod();
  mutate(objs);
  const failures = await failuresOf(objs);
  assert.ok(failures.some((f) => pattern.test(f)),
    `expected a failure matching ${pattern}, got:\n${failures.join("\n") || "(none)"}`);
}

test("every overlay renders and validates cleanly", async () => {
  assert.ok(overlays.includes("dev") && overlays.includes("prod"));
  for (const o of overlays) {
    const objs = render(path.join(k8s, "overlays", o));
    assert.ok(objs.length > 5, `${o}: only ${objs.length} objects`);
    assert.deepEqual(await failuresOf(objs), [], `overlay ${o}`);
  }
});

test("dev has one replica and no HPA; prod keeps 3 replicas, HPA and monitoring", () => {
  const dev = render(path.join(k8s, "overlays/dev"));
  assert.equal(rewardd(dev).spec.replicas, 1);
  assert.equal(dev.filter((o) => o.kind === "HorizontalPodAutoscaler").length, 0);
  const p = prod();
  assert.equal(rewardd(p).spec.replicas, 3);
  for (const kind of ["HorizontalPodAutoscaler", "ServiceMonitor", "PrometheusRule", "PodDisruptionBudget"]) {
    assert.ok(p.some((o) => o.kind === kind), kind);
  }
});

test("a misspelt field is rejected (the models alone would accept it)", async () => {
  await assertRejected((objs) => {
    const c = container(objs);
    c.readinesProbe = c.readinessProbe;
    delete c.readinessProbe;
  }, /unknown field .*readinesProbe/);
});

test("a wrong type is rejected", async () => {
  await assertRejected((objs) => { container(objs).ports[0].containerPort = "50051"; },
    /containerPort must be integer/);
});

test("a missing required field is rejected", async () => {
  await assertRejected((objs) => { delete find(objs, "PrometheusRule", "rewardd").spec.groups[0].rules[0].expr; },
    /required property expr/);
});

test("an apiVersion/kind without a schema is rejected", async () => {
  await assertRejected((objs) => { objs.push({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } }); },
    /no schema for example.com\/v1 Widget/);
});

test("a Service whose targetPort no container declares is rejected", async () => {
  await assertRejected((objs) => { find(objs, "Service", "rewardd").spec.ports[1].targetPort = "metric"; },
    /targetPort metric is not a container port/);
});

test("a Service that selects no pods is rejected", async () => {
  await assertRejected((objs) => { find(objs, "Service", "rewardd-headless").spec.selector["app.kubernetes.io/name"] = "rewarrd"; },
    /selector matches no pod template/);
});

test("a volume naming a ConfigMap that is not rendered is rejected", async () => {
  await assertRejected((objs) => {
    rewardd(objs).spec.template.spec.volumes.find((v) => v.name === "rubrics").configMap.name = "rubrics-typo";
  }, /ConfigMap rubrics-typo is not in the render/);
});

test("a ConfigMap mounted with subPath (no hot reload) is rejected", async () => {
  await assertRejected((objs) => {
    container(objs).volumeMounts.find((m) => m.name === "rubrics").subPath = "x";
  }, /subPath never receives updates/);
});

test("a probe on an undeclared port is rejected", async () => {
  await assertRejected((objs) => { container(objs).readinessProbe.grpc.port = 50052; },
    /readiness probe port 50052 is not a declared container port/);
});

test("an HPA on CPU utilisation without CPU requests is rejected", async () => {
  await assertRejected((objs) => { delete container(objs).resources.requests.cpu; },
    /no CPU request/);
});

test("a ServiceMonitor on a port no Service names is rejected", async () => {
  await assertRejected((objs) => { find(objs, "ServiceMonitor", "rewardd").spec.endpoints[0].port = "http-metrics"; },
    /endpoint port http-metrics/);
});

test("a selector that does not match the pod template is rejected", async () => {
  await assertRejected((objs) => { rewardd(objs).spec.selector.matchLabels.tier = "x"; },
    /spec.selector does not match/);
});

test("--schema-only skips cross-object checks", async () => {
  const objs = prod().filter((o) => o.kind === "HorizontalPodAutoscaler");
  assert.deepEqual(await failuresOf(objs, { refs: false }), []);
  assert.ok((await failuresOf(objs)).some((f) => /scaleTargetRef/.test(f)));
});

test("kustomize-lite: generated names carry kustomize's hash", () => {
  // Expected names are what `kubectl kustomize` (kustomize v5.5.0) printed
  // for these inputs.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "klite-"));
  fs.writeFileSync(path.join(dir, "kustomization.yaml"),
    "configMapGenerator:\n- name: x\n  literals: [a=b]\nsecretGenerator:\n- name: x\n  literals: [a=b]\n");
  const objs = render(dir);
  assert.equal(find(objs, "ConfigMap", "x-4h2mbtbbt6")?.data.a, "b");
  assert.equal(find(objs, "Secret", "x-k695gkmbtk")?.data.a, "Yg==");
  fs.rmSync(dir, { recursive: true });
});

test("kustomize-lite: pod templates follow the generated name", () => {
  const p = prod();
  const cm = p.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("rewardd-judges-"));
  assert.ok(cm, "hashed judges ConfigMap");
  const vol = rewardd(p).spec.template.spec.volumes.find((v) => v.name === "judges");
  assert.equal(vol.configMap.name, cm.metadata.name);
  // The rubric ConfigMap keeps its name so that updates reach running pods.
  assert.ok(find(p, "ConfigMap", "rewardd-rubrics"));
});

test("kustomize-lite: strategic merge by key, new items first, $patch delete", () => {
  const base = { spec: { containers: [{ name: "a", env: [{ name: "X", value: "1" }] }], tolerations: [{ key: "k" }] } };
  const out = strategicMerge(base, {
    spec: { containers: [{ name: "a", env: [{ name: "Y", value: "2" }, { name: "X", value: "3" }] }], tolerations: [{ key: "z" }] },
  });
  assert.deepEqual(out.spec.containers[0].env, [{ name: "Y", value: "2" }, { name: "X", value: "3" }]);
  assert.deepEqual(out.spec.tolerations, [{ key: "z" }]);
  assert.equal(strategicMerge({ a: 1 }, { $patch: "delete" }), undefined);
  assert.deepEqual(strategicMerge({ a: 1, b: 2 }, { b: null }), { a: 1 });
});

test("kustomize-lite: JSON 6902 patches", () => {
  const doc = { spec: { args: ["--a"], n: 1 } };
  const out = jsonPatch(doc, [
    { op: "add", path: "/spec/args/-", value: "--b" },
    { op: "replace", path: "/spec/n", value: 2 },
    { op: "remove", path: "/spec/args/0" },
  ]);
  assert.deepEqual(out, { spec: { args: ["--b"], n: 2 } });
  assert.deepEqual(doc, { spec: { args: ["--a"], n: 1 } }, "input untouched");
  assert.throws(() => jsonPatch(doc, [{ op: "replace", path: "/spec/x", value: 1 }]), /no such path/);
});

test("kustomize-lite refuses fields it does not implement", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "klite-"));
  fs.writeFileSync(path.join(dir, "kustomization.yaml"), "namePrefix: x-\nresources: []\n");
  assert.throws(() => render(dir), /namePrefix.*not supported/);
  fs.rmSync(dir, { recursive: true });
});

test("the committed rubric ConfigMap files parse as JSON lines", () => {
  const cm = find(prod(), "ConfigMap", "rewardd-rubrics");
  assert.ok(Object.keys(cm.data).length >= 1);
  for (const [name, text] of Object.entries(cm.data)) {
    assert.match(name, /^[^.]+(\.[a-z_]+)?\.jsonl?$/, "one set per file: <set>[.<format>].json[l]");
    const lines = name.endsWith(".jsonl") ? text.split("\n").filter(Boolean) : [text];
    for (const l of lines) JSON.parse(l);
  }
});

test("PrometheusRule spec round-trips the rule file it was generated from", () => {
  const rule = find(prod(), "PrometheusRule", "rewardd");
  const src = rule.metadata.annotations["rewardd.dev/generated-from"].split(", ");
  const groups = src.flatMap((f) => YAML.parse(fs.readFileSync(path.resolve(k8s, "../..", f), "utf8")).groups);
  assert.deepEqual(rule.spec.groups, groups);
});
