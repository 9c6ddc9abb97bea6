// Validates rendered Kubernetes manifests (multi-document YAML) against the
// Kubernetes and prometheus-operator schemas of the npm packages
// `kubernetes-models` and `@kubernetes-models/prometheus-operator`, and checks
// that the objects of one render refer to each other correctly.
//
//   kubectl kustomize deploy/k8s/overlays/prod | node deploy/validate/validate.mjs -
//   node deploy/validate/validate.mjs --schema-only deploy/k8s/extras/*.yaml
//
// Exit status: 0 when every object is valid, 1 when any is not (each problem
// is printed as "FAIL <source> <Kind>/<name>: <what>"), 2 on usage errors.
//
// Three layers of checks:
//   1. Schema: types, required fields, enums and formats, as the published
//      models define them. An apiVersion/kind without a model is an error, so
//      nothing passes unchecked.
//   2. Unknown fields: the models accept fields they do not know (a typo such
//      as `readinesProbe` would pass), while the API server drops or rejects
//      them. We watch which properties the compiled schema reads: a property
//      of a typed object that the schema never asked for is unknown.
//   3. References within the render (skipped with --schema-only): selectors
//      select pod templates, Service target ports and probe ports exist,
//      volumes and env refer to ConfigMaps/Secrets that exist (unless
//      optional) and to keys they have, HPA and ServiceMonitor targets exist,
//      CPU-utilisation HPAs have CPU requests, ConfigMaps fit the 1 MiB limit.

import fs from "node:fs";
import YAML from "yaml";

// apiVersion -> module that exports one model class per kind.
function modulePath(apiVersion) {
  if (apiVersion === "v1") return "kubernetes-models/v1";
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    return `@kubernetes-models/prometheus-operator/${apiVersion}`;
  }
  return `kubernetes-models/${apiVersion}`;
}

const moduleCache = new Map();
async function modelFor(apiVersion, kind) {
  const p = modulePath(apiVersion);
  if (!moduleCache.has(p)) {
    moduleCache.set(p, await import(p).catch(() => null));
  }
  const mod = moduleCache.get(p);
  return mod?.[kind] ?? null;
}

const isMap = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

// Wraps `value` so that every property read by the validator is recorded.
// Each object gets one record: {path, value, read: Set, enumerated: bool}.
function track(value, path, records) {
  if (value === null || typeof value !== "object") return value;
  const rec = { path, value, read: new Set(), enumerated: false };
  records.push(rec);
  const children = new Map();
  return new Proxy(value, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof key !== "string") return v;
      rec.read.add(key);
      if (v === null || typeof v !== "object") return v;
      if (!children.has(key)) children.set(key, track(v, `${path}/${key}`, records));
      return children.get(key);
    },
    has(target, key) {
      if (typeof key === "string") rec.read.add(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      // Map-typed fields (labels, data, ...) are iterated, not read by name:
      // every key of theirs is allowed.
      rec.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

function unknownFields(records) {
  const out = [];
  for (const r of records) {
    if (!isMap(r.value) || r.enumerated || r.read.size === 0) continue;
    for (const k of Object.keys(r.value)) {
      if (!r.read.has(k)) out.push(`${r.path || ""}/${k}`);
    }
  }
  return out;
}

async function schemaProblems(obj) {
  if (!isMap(obj)) return ["document is not an object"];
  if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
    return ["apiVersion and kind are required"];
  }
  const Model = await modelFor(obj.apiVersion, obj.kind);
  if (!Model) return [`no schema for ${obj.apiVersion} ${obj.kind} (unknown or unsupported kind)`];
  const problems = [];
  const records = [];
  const proxy = track(obj, "", records);
  try {
    Model.prototype.validate.call(proxy);
  } catch (e) {
    problems.push(...String(e.message).split(", data").map((m, i) => (i ? `data${m}` : m)));
  }
  for (const f of unknownFields(records)) problems.push(`unknown field ${f}`);
  if (!obj.metadata?.name) problems.push("metadata.name is required");
  return problems;
}

// --- references within one render -----------------------------------------

const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"]);

function selects(selector, labels) {
  if (!selector) return false;
  const ml = selector.matchLabels ?? (selector.matchExpressions ? {} : selector);
  for (const [k, v] of Object.entries(ml)) if (labels?.[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = labels && Object.hasOwn(labels, e.key);
    const val = labels?.[e.key];
    if (e.operator === "In" && !(has && e.values.includes(val))) return false;
    if (e.operator === "NotIn" && has && e.values.includes(val)) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

function podTemplate(o) {
  if (WORKLOADS.has(o.kind)) return o.spec?.template;
  if (o.kind === "CronJob") return o.spec?.jobTemplate?.spec?.template;
  return null;
}

function containersOf(spec) {
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

function referenceProblems(objs) {
  const problems = [];  // [obj, message]
  const ns = (o) => o.metadata?.namespace ?? "";
  const find = (kind, namespace, name) =>
    objs.find((o) => o.kind === kind && ns(o) === namespace && o.metadata?.name === name);
  const templates = objs
    .map((o) => ({ o, t: podTemplate(o) }))
    .filter((x) => x.t);

  for (const { o, t } of templates) {
    const spec = t.spec ?? {};
    const labels = t.metadata?.labels ?? {};
    if (o.spec?.selector && !selects(o.spec.selector, labels)) {
      problems.push([o, "spec.selector does not match the pod template's labels"]);
    }
    const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
    for (const v of spec.volumes ?? []) {
      if (v.configMap && !v.configMap.optional) {
        const cm = find("ConfigMap", ns(o), v.configMap.name);
        if (!cm) problems.push([o, `volume ${v.name}: ConfigMap ${v.configMap.name} is not in the render`]);
        for (const it of v.configMap.items ?? []) {
          if (cm && !(it.key in (cm.data ?? {})) && !(it.key in (cm.binaryData ?? {}))) {
            problems.push([o, `volume ${v.name}: ConfigMap ${cm.metadata.name} has no key ${it.key}`]);
          }
        }
      }
      if (v.secret && !v.secret.optional && !find("Secret", ns(o), v.secret.secretName)) {
        problems.push([o, `volume ${v.name}: Secret ${v.secret.secretName} is not in the render`]);
      }
    }
    for (const c of containersOf(spec)) {
      const portNames = new Set((c.ports ?? []).map((p) => p.name).filter(Boolean));
      const portNumbers = new Set((c.ports ?? []).map((p) => p.containerPort));
      for (const m of c.volumeMounts ?? []) {
        if (!volumes.has(m.name)) problems.push([o, `container ${c.name}: volumeMount ${m.name} has no volume`]);
        if (m.subPath && volumes.get(m.name)?.configMap) {
          problems.push([o, `container ${c.name}: ConfigMap volume ${m.name} mounted with subPath never receives updates`]);
        }
      }
      for (const e of c.env ?? []) {
        const cmr = e.valueFrom?.configMapKeyRef;
        if (cmr && !cmr.optional) {
          const cm = find("ConfigMap", ns(o), cmr.name);
          if (!cm) problems.push([o, `env ${e.name}: ConfigMap ${cmr.name} is not in the render`]);
          else if (!(cmr.key in (cm.data ?? {}))) problems.push([o, `env ${e.name}: ConfigMap ${cmr.name} has no key ${cmr.key}`]);
        }
        const sr = e.valueFrom?.secretKeyRef;
        if (sr && !sr.optional && !find("Secret", ns(o), sr.name)) {
          problems.push([o, `env ${e.name}: Secret ${sr.name} is not in the render (mark it optional or add it)`]);
        }
      }
      for (const [kind, probe] of [["startup", c.startupProbe], ["readiness", c.readinessProbe], ["liveness", c.livenessProbe]]) {
        if (!probe) continue;
        const port = probe.grpc?.port ?? probe.httpGet?.port ?? probe.tcpSocket?.port;
        if (port === undefined) continue;
        const ok = typeof port === "number" ? portNumbers.has(port) : portNames.has(port);
        if (!ok) problems.push([o, `container ${c.name}: ${kind} probe port ${port} is not a declared container port`]);
      }
    }
  }

  for (const o of objs) {
    if (o.kind === "Service" && o.spec?.selector && Object.keys(o.spec.selector).length) {
      const hits = templates.filter(({ o: w, t }) => ns(w) === ns(o) && selects(o.spec.selector, t.metadata?.labels));
      if (!hits.length) {
        problems.push([o, "selector matches no pod template in the render"]);
        continue;
      }
      for (const p of o.spec.ports ?? []) {
        const tp = p.targetPort ?? p.port;
        const ok = hits.some(({ t }) => containersOf(t.spec).some((c) => (c.ports ?? []).some((cp) =>
          (typeof tp === "number" ? cp.containerPort === tp : cp.name === tp))));
        if (!ok) problems.push([o, `port ${p.name ?? p.port}: targetPort ${tp} is not a container port of the selected pods`]);
      }
    }
    if (o.kind === "PodDisruptionBudget") {
      if (!templates.some(({ o: w, t }) => ns(w) === ns(o) && selects(o.spec?.selector, t.metadata?.labels))) {
        problems.push([o, "selector matches no pod template in the render"]);
      }
    }
    if (o.kind === "HorizontalPodAutoscaler") {
      const ref = o.spec?.scaleTargetRef ?? {};
      const target = find(ref.kind, ns(o), ref.name);
      if (!target) {
        problems.push([o, `scaleTargetRef ${ref.kind}/${ref.name} is not in the render`]);
      } else {
        const usesCpuUtil = (o.spec.metrics ?? []).some((m) => m.type === "Resource" &&
          m.resource?.name === "cpu" && m.resource?.target?.type === "Utilization");
        const cs = podTemplate(target)?.spec?.containers ?? [];
        if (usesCpuUtil && cs.some((c) => !c.resources?.requests?.cpu)) {
          problems.push([o, "CPU utilisation target, but a container of the target has no CPU request"]);
        }
        if (o.spec.minReplicas && o.spec.maxReplicas < o.spec.minReplicas) {
          problems.push([o, "maxReplicas < minReplicas"]);
        }
      }
    }
    if (o.kind === "ServiceMonitor") {
      const svcs = objs.filter((s) => s.kind === "Service" && ns(s) === ns(o) && selects(o.spec?.selector, s.metadata?.labels));
      if (!svcs.length) problems.push([o, "selector matches no Service in the render"]);
      for (const ep of o.spec?.endpoints ?? []) {
        if (ep.port && !svcs.some((s) => (s.spec?.ports ?? []).some((p) => p.name === ep.port))) {
          problems.push([o, `endpoint port ${ep.port} is not a named port of a selected Service`]);
        }
      }
    }
    if (o.kind === "ConfigMap") {
      const bytes = Object.values(o.data ?? {}).reduce((n, v) => n + Buffer.byteLength(String(v)), 0) +
        Object.values(o.binaryData ?? {}).reduce((n, v) => n + Math.floor(String(v).length * 3 / 4), 0);
      if (bytes > 1024 * 1024) problems.push([o, `data is ${bytes} bytes; a ConfigMap holds at most 1 MiB`]);
      else if (bytes > 256 * 1024) {
        console.error(`WARN ConfigMap/${o.metadata.name}: ${bytes} bytes: use kubectl apply --server-side (client-side apply's annotation holds 256 KiB)`);
      }
    }
  }
  return problems;
}

// --- main ---------------------------------------------------------------------

function readSource(src) {
  return src === "-" ? fs.readFileSync(0, "utf8") : fs.readFileSync(src, "utf8");
}

export async function validateText(text, source, { refs = true } = {}) {
  const failures = [];
  const objs = [];
  const docs = YAML.parseAllDocuments(text);
  for (const [i, d] of docs.entries()) {
    if (d.errors.length) {
      failures.push(`${source} document ${i + 1}: YAML: ${d.errors[0].message}`);
      continue;
    }
    const o = d.toJS();
    if (o === null || o === undefined) continue;
    objs.push(o);
  }
  for (const o of objs) {
    const label = `${o?.kind ?? "?"}/${o?.metadata?.name ?? "?"}`;
    for (const p of await schemaProblems(o)) failures.push(`${source} ${label}: ${p}`);
  }
  if (refs) {
    for (const [o, p] of referenceProblems(objs)) failures.push(`${source} ${o.kind}/${o.metadata?.name}: ${p}`);
  }
  return { objects: objs, failures };
}

async function main(argv) {
  let refs = true;
  const sources = [];
  for (const a of argv) {
    if (a === "--schema-only") refs = false;
    else if (a === "-h" || a === "--help") {
      console.log("usage: validate.mjs [--schema-only] FILE|- [FILE...]");
      return 0;
    } else sources.push(a);
  }
  if (!sources.length) {
    console.error("usage: validate.mjs [--schema-only] FILE|- [FILE...]");
    return 2;
  }
  let objects = 0;
  let failed = 0;
  for (const src of sources) {
    const { objects: objs, failures } = await validateText(readSource(src), src === "-" ? "<stdin>" : src, { refs });
    objects += objs.length;
    if (!objs.length) {
      console.log(`FAIL ${src}: no objects`);
      failed++;
    }
    for (const f of failures) console.log(`FAIL ${f}`);
    failed += failures.length;
    if (!failures.length && objs.length) {
      console.log(`ok   ${src === "-" ? "<stdin>" : src}: ${objs.length} objects (${[...new Set(objs.map((o) => o.kind))].join(", ")})`);
    }
  }
  console.log(`validate: ${objects} objects, ${failed} problems`);
  return failed ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
