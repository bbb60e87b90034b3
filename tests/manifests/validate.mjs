// Validate every object in the given YAML files against the Kubernetes API
// schemas of kubernetes-models (pinned in package.json).
//
//   node build/manifests-npm/validate.mjs config/*.yaml   (run.sh copies
//   it there, next to the node_modules that npm ci makes from the lock)
//
// To change a version: edit package.json, then in tests/manifests run
// `npm install --package-lock-only` (the .npmrc keeps registry host names
// out of the lock) and commit both files.
//
// kubernetes-models' schemas allow unknown fields, as the API's own OpenAPI
// does: a misspelt field passes here. test_manifests.py asserts every field
// that matters by name, which catches those.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

// "apps/v1" -> kubernetes-models/apps/v1, "v1" (core) -> kubernetes-models/v1
async function modelFor(apiVersion, kind) {
  const mod = await import(`kubernetes-models/${apiVersion}`);
  if (!mod[kind]) throw new Error(`no model for ${apiVersion} ${kind}`);
  return mod[kind];
}

async function validate(obj) {
  const Model = await modelFor(obj.apiVersion, obj.kind);
  new Model(obj).validate();
}

// [container/probe name, probe] of every probe in the object's pod.
function probes(obj) {
  const pod = obj.spec.template.spec;
  const out = [];
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    for (const k of ["startupProbe", "readinessProbe", "livenessProbe"]) {
      if (c[k]) out.push([`${c.name}/${k}`, c[k]]);
    }
  }
  return out;
}

// Ways to break a probe by type: [what, function breaking a probe].
function probeBreaks(probe) {
  const out = [["a string timeoutSeconds", (p) => { p.timeoutSeconds = "1s"; }]];
  if (probe.httpGet) {
    out.push(["a boolean httpGet port", (p) => { p.httpGet.port = true; }]);
    out.push(["a number httpGet path", (p) => { p.httpGet.path = 8081; }]);
  }
  return out;
}

async function refused(obj, name, what) {
  try {
    await validate(obj);
    report(false, name, `${what} passed`);
  } catch {
    report(true, `${name} refused: ${what}`);
  }
}

let passed = 0;
let failed = 0;
function report(ok, name, detail) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"}  ${name}${detail ? ": " + detail : ""}`);
}

for (const file of process.argv.slice(2)) {
  const docs = parseAllDocuments(readFileSync(file, "utf8"));
  for (const doc of docs) {
    const errors = doc.errors.map((e) => e.message).join("; ");
    const obj = doc.toJS();
    const name = `${file} ${obj?.kind}/${obj?.metadata?.name}`;
    if (errors || !obj) {
      report(false, name, errors || "empty document");
      continue;
    }
    try {
      await validate(obj);
      report(true, name);
    } catch (e) {
      report(false, name, e.message);
      continue;
    }
    // The validator is live: a wrong type in the same object is refused,
    // at the pod and in every probe.
    const broken = structuredClone(obj);
    broken.spec.template.spec.securityContext.runAsNonRoot = "yes";
    await refused(broken, `${name} (broken copy)`, "a string runAsNonRoot");
    for (const [where, probe] of probes(obj)) {
      for (const [what, breakIt] of probeBreaks(probe)) {
        const copy = structuredClone(obj);
        breakIt(probes(copy).find(([w]) => w === where)[1]);
        await refused(copy, `${name} ${where} (broken copy)`, what);
      }
    }
  }
}
console.log(`manifests (schema): ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
