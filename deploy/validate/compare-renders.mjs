// Compares two renders of the same kustomization (e.g. `kubectl kustomize`
// and kustomize-lite.mjs) object by object, ignoring key order, and prints
// the first differing path of each object that differs. Exit 1 on any
// difference, 0 when both contain the same objects with the same content.
//
//   node deploy/validate/compare-renders.mjs kubectl.yaml lite.yaml

import fs from "node:fs";
import YAML from "yaml";

function load(file) {
  const m = new Map();
  for (const d of YAML.parseAllDocuments(fs.readFileSync(file, "utf8"))) {
    const o = d.toJS();
    if (o == null) continue;
    m.set(`${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name}`, o);
  }
  return m;
}

// Returns the first path where a and b differ, or null.
function firstDiff(a, b, p = "") {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || (a === null) !== (b === null)) {
    return `${p || "/"}: ${JSON.stringify(a)?.slice(0, 80)} vs ${JSON.stringify(b)?.slice(0, 80)}`;
  }
  if (a && typeof a === "object") {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of [...keys].sort()) {
      const d = firstDiff(a[k], b[k], `${p}/${k}`);
      if (d) return d;
    }
    return null;
  }
  return a === b ? null : `${p}: ${JSON.stringify(a)?.slice(0, 80)} vs ${JSON.stringify(b)?.slice(0, 80)}`;
}

const [fa, fb] = process.argv.slice(2);
if (!fa || !fb) {
  console.error("usage: compare-renders.mjs A.yaml B.yaml");
  process.exit(2);
}
const a = load(fa);
const b = load(fb);
let bad = 0;
for (const k of new Set([...a.keys(), ...b.keys()])) {
  if (!a.has(k)) { console.log(`only in ${fb}: ${k}`); bad++; continue; }
  if (!b.has(k)) { console.log(`only in ${fa}: ${k}`); bad++; continue; }
  const d = firstDiff(a.get(k), b.get(k));
  if (d) { console.log(`${k} differs at ${d}`); bad++; }
}
if (bad) process.exit(1);
console.log(`same ${a.size} objects`);
