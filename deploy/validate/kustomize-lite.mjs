// A small kustomize renderer for machines without kubectl: it builds the
// subset of kustomize that deploy/k8s uses and fails loudly on anything else,
// so it can never silently render something different from `kubectl
// kustomize`. scripts/validate-deploy.sh compares the two outputs whenever
// kubectl exists, which keeps this file honest.
//
//   node deploy/validate/kustomize-lite.mjs deploy/k8s/overlays/prod > out.yaml
//   node deploy/validate/kustomize-lite.mjs --json deploy/k8s/overlays/prod  # a JSON array
//
// Supported kustomization fields: resources (files and directories), namespace,
// labels (pairs; includeSelectors/includeTemplates), images, replicas,
// patches (strategic-merge and JSON 6902, by path or inline, with or without a
// target), configMapGenerator and secretGenerator (files, literals, envs;
// behavior create/merge/replace; options), generatorOptions. Generated names
// get kustomize's content-hash suffix and references from pod templates are
// rewritten.

import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import YAML from "yaml";

const SUPPORTED = new Set([
  "apiVersion", "kind", "resources", "namespace", "labels", "images",
  "replicas", "patches", "configMapGenerator", "secretGenerator",
  "generatorOptions",
]);

// Kinds that have no namespace (the ones a rewardd deployment could contain).
const CLUSTER_SCOPED = new Set([
  "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
  "PersistentVolume", "StorageClass", "PriorityClass", "IngressClass",
  "RuntimeClass", "APIService", "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration", "Node",
]);

// kustomize's "legacy" output order: these kinds first, in this order, then
// everything else by kind, with webhooks last.
const ORDER_FIRST = [
  "Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition",
  "ServiceAccount", "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding",
  "ClusterRoleBinding", "ConfigMap", "Secret", "Endpoints", "Service",
  "LimitRange", "PriorityClass", "PersistentVolume", "PersistentVolumeClaim",
  "Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget",
];
const ORDER_LAST = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

// Strategic-merge keys of the lists our manifests patch (from the Kubernetes
// API's x-kubernetes-patch-merge-key). Lists not named here are replaced.
const MERGE_KEYS = {
  containers: "name", initContainers: "name", ephemeralContainers: "name",
  env: "name", volumes: "name", volumeMounts: "mountPath",
  ports: "containerPort", imagePullSecrets: "name", hostAliases: "ip",
  volumeDevices: "devicePath", resourceClaims: "name",
};

export class RenderError extends Error {}

function fail(msg) {
  throw new RenderError(msg);
}

function isMap(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function readYamlDocs(file) {
  const text = fs.readFileSync(file, "utf8");
  const docs = YAML.parseAllDocuments(text);
  const out = [];
  for (const d of docs) {
    if (d.errors.length) fail(`${file}: ${d.errors[0].message}`);
    const v = d.toJS();
    if (v !== null && v !== undefined) out.push(v);
  }
  return out;
}

function findKustomization(dir) {
  for (const n of ["kustomization.yaml", "kustomization.yml", "Kustomization"]) {
    const p = path.join(dir, n);
    if (fs.existsSync(p)) return p;
  }
  fail(`${dir}: no kustomization.yaml`);
}

// Keeps every file a kustomization reads inside its own directory tree, as
// kustomize's default load restrictor does; a directory resource is a base
// and may live anywhere.
function confined(root, rel, what) {
  const p = path.resolve(root, rel);
  if (p !== root && !p.startsWith(root + path.sep)) {
    fail(`${what} '${rel}' is outside the kustomization root ${root}`);
  }
  return p;
}

const id = (o) => `${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;

// Go's encoding/json with sorted keys and HTML-safe escapes: what kustomize
// hashes.
function goJson(v) {
  const sortKeys = (x) => {
    if (Array.isArray(x)) return x.map(sortKeys);
    if (isMap(x)) {
      const o = {};
      for (const k of Object.keys(x).sort()) o[k] = sortKeys(x[k]);
      return o;
    }
    return x;
  };
  return JSON.stringify(sortKeys(v))
    .replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

// kustomize 5's content hash (api/hasher): sha256 of Go-encoded {kind, name,
// data[, binaryData | type, stringData]}, first 10 hex digits with vowels
// mapped away. `name` is always "" there: kyaml's Lookup("metadata/name")
// looks for one field literally named "metadata/name" and finds none.
// compare-renders.mjs against `kubectl kustomize` keeps this faithful.
function kustomizeHash(obj) {
  const m = { kind: obj.kind, name: "", data: obj.data ?? "" };
  if (obj.kind === "Secret") {
    m.type = obj.type ?? "";
    if (isMap(obj.stringData)) m.stringData = obj.stringData;
  } else if (isMap(obj.binaryData)) {
    m.binaryData = obj.binaryData;
  }
  const hex = crypto.createHash("sha256").update(goJson(m)).digest("hex");
  const map = { 0: "g", 1: "h", 3: "k", a: "m", e: "t" };
  return [...hex.slice(0, 10)].map((c) => map[c] ?? c).join("");
}

function parseEnvFile(file) {
  const out = {};
  for (const raw of fs.readFileSync(file, "utf8").split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const i = line.indexOf("=");
    if (i < 0) fail(`${file}: '${line}' is not KEY=VALUE`);
    out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

function generate(root, gen, kind, globalOpts) {
  for (const k of Object.keys(gen)) {
    if (!["name", "namespace", "behavior", "files", "literals", "envs", "options", "type"].includes(k)) {
      fail(`${kind}Generator '${gen.name}': field '${k}' is not supported by kustomize-lite`);
    }
  }
  const data = {};
  for (const lit of gen.literals ?? []) {
    const i = lit.indexOf("=");
    if (i < 0) fail(`${gen.name}: literal '${lit}' is not KEY=VALUE`);
    data[lit.slice(0, i)] = lit.slice(i + 1);
  }
  for (const env of gen.envs ?? []) Object.assign(data, parseEnvFile(confined(root, env, "env file")));
  for (const f of gen.files ?? []) {
    const i = f.indexOf("=");
    const key = i < 0 ? path.basename(f) : f.slice(0, i);
    const file = confined(root, i < 0 ? f : f.slice(i + 1), "file");
    data[key] = fs.readFileSync(file, "utf8");
  }
  const opts = { ...(globalOpts ?? {}), ...(gen.options ?? {}) };
  const obj = { apiVersion: "v1", kind, metadata: { name: gen.name } };
  if (gen.namespace) obj.metadata.namespace = gen.namespace;
  if (opts.labels) obj.metadata.labels = { ...opts.labels };
  if (opts.annotations) obj.metadata.annotations = { ...opts.annotations };
  if (kind === "Secret") {
    obj.type = gen.type ?? "Opaque";
    obj.data = Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
  } else {
    obj.data = data;
  }
  if (opts.immutable) obj.immutable = true;
  return { obj, behavior: gen.behavior ?? "create", hashed: !opts.disableNameSuffixHash };
}

// Strategic merge of `patch` into `base` (both plain JSON values).
export function strategicMerge(base, patch, key = "") {
  if (isMap(patch)) {
    if (patch.$patch === "delete") return undefined;
    if (patch.$patch === "replace") {
      const { $patch, ...rest } = patch;
      return structuredClone(rest);
    }
    const out = isMap(base) ? { ...base } : {};
    for (const [k, v] of Object.entries(patch)) {
      if (k === "$patch") continue;
      if (v === null) {
        delete out[k];
        continue;
      }
      const merged = strategicMerge(out[k], v, k);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  if (Array.isArray(patch)) {
    const mk = MERGE_KEYS[key];
    if (!mk || !Array.isArray(base) || !patch.every(isMap)) return structuredClone(patch);
    // As kustomize (kyaml) does: merged items keep their place, new items
    // go first, in patch order.
    const out = base.map((x) => structuredClone(x));
    const added = [];
    for (const item of patch) {
      const idx = out.findIndex((b) => isMap(b) && b[mk] === item[mk]);
      if (item.$patch === "delete") {
        if (idx >= 0) out.splice(idx, 1);
      } else if (idx >= 0) {
        out[idx] = strategicMerge(out[idx], item, "");
      } else {
        added.push(strategicMerge(undefined, item, ""));
      }
    }
    return [...added, ...out];
  }
  return patch;
}

function pointer(p) {
  if (p === "") return [];
  return p.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

// RFC 6902 JSON Patch (add, remove, replace, copy, move, test).
export function jsonPatch(doc, ops) {
  const get = (root, parts) => parts.reduce((o, k) => {
    if (o === undefined || o === null) return undefined;
    return Array.isArray(o) ? o[k === "-" ? o.length : Number(k)] : o[k];
  }, root);
  const parentOf = (root, parts, op) => {
    const parent = get(root, parts.slice(0, -1));
    if (parent === undefined || typeof parent !== "object") {
      fail(`json patch ${op.op} ${op.path}: parent does not exist`);
    }
    return [parent, parts[parts.length - 1]];
  };
  let out = structuredClone(doc);
  for (const op of ops) {
    const parts = pointer(op.path);
    const set = (value) => {
      if (!parts.length) { out = value; return; }
      const [parent, last] = parentOf(out, parts, op);
      if (Array.isArray(parent)) {
        const i = last === "-" ? parent.length : Number(last);
        if (op.op === "replace") parent[i] = value; else parent.splice(i, 0, value);
      } else {
        parent[last] = value;
      }
    };
    const remove = (ps) => {
      const [parent, last] = parentOf(out, ps, op);
      if (Array.isArray(parent)) parent.splice(Number(last), 1); else delete parent[last];
    };
    switch (op.op) {
      case "add": set(structuredClone(op.value)); break;
      case "replace":
        if (get(out, parts) === undefined) fail(`json patch replace ${op.path}: no such path`);
        set(structuredClone(op.value)); break;
      case "remove":
        if (get(out, parts) === undefined) fail(`json patch remove ${op.path}: no such path`);
        remove(parts); break;
      case "copy": set(structuredClone(get(out, pointer(op.from)))); break;
      case "move": { const v = get(out, pointer(op.from)); remove(pointer(op.from)); set(v); break; }
      case "test":
        if (goJson(get(out, parts)) !== goJson(op.value)) fail(`json patch test ${op.path} failed`);
        break;
      default: fail(`json patch: unknown op '${op.op}'`);
    }
  }
  return out;
}

function matchesTarget(obj, t) {
  if (!t) return true;
  const re = (s) => new RegExp(`^(?:${s})$`);
  if (t.kind && !re(t.kind).test(obj.kind)) return false;
  if (t.name && !re(t.name).test(obj.metadata?.name ?? "")) return false;
  if (t.namespace && !re(t.namespace).test(obj.metadata?.namespace ?? "")) return false;
  if (t.version || t.group) {
    const [g, v] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
    if (t.group !== undefined && t.group !== g) return false;
    if (t.version !== undefined && t.version !== v) return false;
  }
  if (t.labelSelector) {
    for (const term of t.labelSelector.split(",")) {
      const [k, v] = term.split("=");
      if ((obj.metadata?.labels ?? {})[k.trim()] !== v?.trim()) return false;
    }
  }
  if (t.annotationSelector) fail("patch target annotationSelector is not supported by kustomize-lite");
  return true;
}

function podSpecs(obj) {
  const t = obj.spec?.template?.spec;
  if (t) return [t];
  const j = obj.spec?.jobTemplate?.spec?.template?.spec;
  if (j) return [j];
  if (obj.kind === "Pod" && obj.spec) return [obj.spec];
  return [];
}

function allContainers(spec) {
  return [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
}

function setLabelsAt(parent, key, pairs) {
  parent[key] = { ...(parent[key] ?? {}), ...pairs };
}

function applyLabels(objs, entries) {
  for (const e of entries ?? []) {
    const pairs = e.pairs ?? {};
    for (const o of objs) {
      setLabelsAt(o.metadata, "labels", pairs);
      const withTemplates = e.includeSelectors || e.includeTemplates;
      if (withTemplates && o.spec?.template?.metadata) setLabelsAt(o.spec.template.metadata, "labels", pairs);
      if (e.includeSelectors) {
        if (o.spec?.selector?.matchLabels) setLabelsAt(o.spec.selector, "matchLabels", pairs);
        else if (o.kind === "Service" && o.spec) setLabelsAt(o.spec, "selector", pairs);
        else if (o.spec?.selector && !o.spec.selector.matchExpressions) setLabelsAt(o.spec.selector, "matchLabels", pairs);
      }
    }
  }
}

function applyImages(objs, images) {
  for (const img of images ?? []) {
    for (const o of objs) {
      for (const spec of podSpecs(o)) {
        for (const c of allContainers(spec)) {
          const m = /^(.*?)(?::([^:/@]+))?(?:@(.+))?$/.exec(c.image ?? "");
          if (!m || m[1] !== img.name) continue;
          let image = img.newName ?? m[1];
          if (img.digest) image += `@${img.digest}`;
          else if (img.newTag) image += `:${img.newTag}`;
          else if (m[3]) image += `@${m[3]}`;
          else if (m[2]) image += `:${m[2]}`;
          c.image = image;
        }
      }
    }
  }
}

function applyReplicas(objs, replicas) {
  for (const r of replicas ?? []) {
    const hit = objs.filter((o) => o.metadata.name === r.name &&
      ["Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"].includes(o.kind));
    if (!hit.length) fail(`replicas: no workload named '${r.name}'`);
    for (const o of hit) o.spec.replicas = r.count;
  }
}

function applyPatches(root, objs, patches) {
  let out = objs;
  for (const p of patches ?? []) {
    if (p.options) fail("patch options are not supported by kustomize-lite");
    let docs;
    if (p.path) docs = readYamlDocs(confined(root, p.path, "patch"));
    else if (typeof p.patch === "string") docs = YAML.parseAllDocuments(p.patch).map((d) => d.toJS()).filter((d) => d != null);
    else fail("patch needs a path or an inline patch");
    const isJson6902 = docs.length === 1 && Array.isArray(docs[0]);
    if (isJson6902) {
      if (!p.target) fail(`JSON 6902 patch ${p.path ?? "(inline)"} needs a target`);
      let hits = 0;
      out = out.map((o) => (matchesTarget(o, p.target) ? (hits++, jsonPatch(o, docs[0])) : o));
      if (!hits) fail(`patch ${p.path ?? "(inline)"}: target matches nothing`);
      continue;
    }
    for (const sm of docs) {
      let hits = 0;
      const next = [];
      for (const o of out) {
        const targeted = p.target
          ? matchesTarget(o, p.target)
          : o.kind === sm.kind && o.metadata.name === sm.metadata?.name &&
            (!sm.metadata?.namespace || sm.metadata.namespace === o.metadata.namespace);
        if (!targeted) { next.push(o); continue; }
        hits++;
        const body = p.target ? { ...sm, metadata: { ...(sm.metadata ?? {}) } } : sm;
        if (p.target) { delete body.metadata.name; delete body.kind; delete body.apiVersion; }
        const merged = strategicMerge(o, body);
        if (merged !== undefined) next.push(merged);
      }
      if (!hits) fail(`patch ${p.path ?? "(inline)"}: ${sm.kind}/${sm.metadata?.name} matches nothing`);
      out = next;
    }
  }
  return out;
}

// Builds one kustomization directory; returns its objects, each with a hidden
// record of how generated names are to be suffixed.
function build(dir, stack = []) {
  const root = path.resolve(dir);
  if (stack.includes(root)) fail(`cycle: ${[...stack, root].join(" -> ")}`);
  const kfile = findKustomization(root);
  const k = YAML.parse(fs.readFileSync(kfile, "utf8")) ?? {};
  for (const key of Object.keys(k)) {
    if (!SUPPORTED.has(key)) fail(`${kfile}: field '${key}' is not supported by kustomize-lite (use kubectl kustomize)`);
  }
  let objs = [];
  for (const r of k.resources ?? []) {
    const p = path.resolve(root, r);
    if (!fs.existsSync(p)) fail(`${kfile}: resource '${r}' does not exist`);
    if (fs.statSync(p).isDirectory()) {
      objs.push(...build(p, [...stack, root]));
    } else {
      confined(root, r, "resource");
      for (const d of readYamlDocs(p)) {
        if (!d.kind || !d.metadata?.name) fail(`${p}: an object without kind or metadata.name`);
        objs.push(d);
      }
    }
  }
  for (const [field, kind] of [["configMapGenerator", "ConfigMap"], ["secretGenerator", "Secret"]]) {
    for (const gen of k[field] ?? []) {
      const g = generate(root, gen, kind, k.generatorOptions);
      const existing = objs.findIndex((o) => o.kind === kind && o.metadata.name === g.obj.metadata.name);
      if (g.behavior === "create") {
        if (existing >= 0) fail(`${kind} ${g.obj.metadata.name} already exists (use behavior: merge or replace)`);
        objs.push(g.obj);
      } else if (g.behavior === "merge" || g.behavior === "replace") {
        if (existing < 0) fail(`${kind} ${g.obj.metadata.name}: behavior ${g.behavior} but no such generated object`);
        const old = objs[existing];
        const next = g.behavior === "merge"
          ? { ...old, data: { ...(old.data ?? {}), ...g.obj.data },
              metadata: { ...old.metadata,
                labels: { ...(old.metadata.labels ?? {}), ...(g.obj.metadata.labels ?? {}) },
                annotations: { ...(old.metadata.annotations ?? {}), ...(g.obj.metadata.annotations ?? {}) } } }
          : { ...g.obj, metadata: { ...g.obj.metadata } };
        for (const f of ["labels", "annotations"]) {
          if (next.metadata[f] && !Object.keys(next.metadata[f]).length) delete next.metadata[f];
        }
        Object.defineProperty(next, "__hashed", { value: old.__hashed && g.hashed, enumerable: false, writable: true });
        objs[existing] = next;
        continue;
      } else {
        fail(`${kind} ${g.obj.metadata.name}: unknown behavior '${g.behavior}'`);
      }
      Object.defineProperty(g.obj, "__hashed", { value: g.hashed, enumerable: false, writable: true });
    }
  }
  const keepHashed = (before, after) => after.map((o) => {
    const b = before.find((x) => x.kind === o.kind && x.metadata.name === o.metadata.name);
    if (b?.__hashed) Object.defineProperty(o, "__hashed", { value: true, enumerable: false, writable: true });
    return o;
  });
  let patched = applyPatches(root, objs, k.patches);
  patched = keepHashed(objs, patched);
  objs = patched;
  if (k.namespace) {
    for (const o of objs) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  applyLabels(objs, k.labels);
  applyImages(objs, k.images);
  applyReplicas(objs, k.replicas);
  return objs;
}

function applyNameSuffixes(objs) {
  const renamed = new Map();  // kind/ns/name -> new name
  for (const o of objs) {
    if (!o.__hashed) continue;
    const newName = `${o.metadata.name}-${kustomizeHash(o)}`;
    renamed.set(id(o), newName);
  }
  const ref = (kind, ns, name) => renamed.get(`${kind}/${ns ?? ""}/${name}`) ?? name;
  for (const o of objs) {
    const ns = o.metadata.namespace;
    for (const spec of podSpecs(o)) {
      for (const v of spec.volumes ?? []) {
        if (v.configMap?.name) v.configMap.name = ref("ConfigMap", ns, v.configMap.name);
        if (v.secret?.secretName) v.secret.secretName = ref("Secret", ns, v.secret.secretName);
        for (const s of v.projected?.sources ?? []) {
          if (s.configMap?.name) s.configMap.name = ref("ConfigMap", ns, s.configMap.name);
          if (s.secret?.name) s.secret.name = ref("Secret", ns, s.secret.name);
        }
      }
      for (const c of allContainers(spec)) {
        for (const e of c.env ?? []) {
          const cm = e.valueFrom?.configMapKeyRef;
          if (cm?.name) cm.name = ref("ConfigMap", ns, cm.name);
          const s = e.valueFrom?.secretKeyRef;
          if (s?.name) s.name = ref("Secret", ns, s.name);
        }
        for (const ef of c.envFrom ?? []) {
          if (ef.configMapRef?.name) ef.configMapRef.name = ref("ConfigMap", ns, ef.configMapRef.name);
          if (ef.secretRef?.name) ef.secretRef.name = ref("Secret", ns, ef.secretRef.name);
        }
      }
      for (const s of spec.imagePullSecrets ?? []) if (s.name) s.name = ref("Secret", ns, s.name);
    }
  }
  for (const o of objs) {
    const n = renamed.get(id(o));
    if (n) o.metadata.name = n;
  }
}

function orderIndex(kind) {
  const f = ORDER_FIRST.indexOf(kind);
  if (f >= 0) return f;
  const l = ORDER_LAST.indexOf(kind);
  if (l >= 0) return ORDER_FIRST.length + 1 + l;
  return ORDER_FIRST.length;
}

// Renders `dir` to a list of plain objects in kustomize's legacy order.
export function render(dir) {
  const objs = build(dir);
  const seen = new Set();
  for (const o of objs) {
    if (seen.has(id(o))) fail(`duplicate object ${id(o)}`);
    seen.add(id(o));
  }
  applyNameSuffixes(objs);
  return objs
    .map((o, i) => [o, i])
    .sort(([a, ia], [b, ib]) => {
      const d = orderIndex(a.kind) - orderIndex(b.kind);
      if (d) return d;
      if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
      return ia - ib;
    })
    .map(([o]) => JSON.parse(JSON.stringify(o)));
}

export function toYaml(objs) {
  return objs.map((o) => YAML.stringify(o, { lineWidth: 0 })).join("---\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const dir = args.find((a) => !a.startsWith("--"));
  if (!dir) {
    console.error("usage: kustomize-lite.mjs [--json] <kustomization dir>");
    process.exit(2);
  }
  try {
    const objs = render(dir);
    process.stdout.write(json ? `${JSON.stringify(objs, null, 1)}\n` : toYaml(objs));
  } catch (e) {
    if (e instanceof RenderError) {
      console.error(`kustomize-lite: ${e.message}`);
      process.exit(1);
    }
    throw e;
  }
}
