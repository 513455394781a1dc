// Reads a multi-document YAML stream (kubectl kustomize output) on stdin and validates every object against the
// Kubernetes API schema of its apiVersion/kind (kubernetes-models). Prints one line per object; exits 1 on any error.
import { parseAllDocuments } from "yaml";

const input = await new Promise((resolve) => {
  let text = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
});

let failures = 0;
let checked = 0;
for (const document of parseAllDocuments(input)) {
  if (document.errors.length > 0) {
    console.error(`YAML error: ${document.errors.map((e) => e.message).join("; ")}`);
    failures++;
    continue;
  }
  const object = document.toJS();
  if (!object) continue;
  const { apiVersion, kind } = object;
  const name = `${kind}/${object.metadata?.name ?? "?"}`;
  // Core group objects live under "kubernetes-models/v1", others under "kubernetes-models/<group>/<version>".
  const modulePath = `kubernetes-models/${apiVersion}`;
  let model;
  try {
    model = (await import(modulePath))[kind];
  } catch (error) {
    console.error(`${name}: no schema for apiVersion ${apiVersion} (${error.message})`);
    failures++;
    continue;
  }
  if (!model) {
    console.error(`${name}: no schema for kind ${kind} in ${apiVersion}`);
    failures++;
    continue;
  }
  try {
    new model(object).validate();
    console.log(`ok ${apiVersion} ${name}`);
    checked++;
  } catch (error) {
    console.error(`${name}: ${error.message}`);
    failures++;
  }
}
console.log(`${checked} objects valid, ${failures} invalid`);
process.exit(failures === 0 && checked > 0 ? 0 : 1);
