// Where a V8 heap snapshot's memory goes: self size by object kind and constructor, and the biggest
// retainers (dominator tree, weak edges ignored), each with the path that keeps it alive. Used for the
// heap findings in docs/performance.md.
//   node --max-old-space-size=8192 bench/heap-summary.ts FILE.heapsnapshot [--top 25]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "25" } },
});
const file = positionals[0];
if (!file) throw new Error("usage: node bench/heap-summary.ts FILE.heapsnapshot [--top N]");
const top = Number(values.top);

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
    node_count: number;
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
const meta = snap.snapshot.meta;
const NF = meta.node_fields.length;
const EF = meta.edge_fields.length;
const nType = meta.node_fields.indexOf("type");
const nName = meta.node_fields.indexOf("name");
const nSize = meta.node_fields.indexOf("self_size");
const nEdges = meta.node_fields.indexOf("edge_count");
const eType = meta.edge_fields.indexOf("type");
const eName = meta.edge_fields.indexOf("name_or_index");
const eTo = meta.edge_fields.indexOf("to_node");
const nodeTypes = meta.node_types[0];
const edgeTypes = meta.edge_types[0];
const weak = edgeTypes.indexOf("weak");
const shortcut = edgeTypes.indexOf("shortcut");
const { nodes, edges, strings } = snap;
const count = nodes.length / NF;

const typeOf = (n: number) => nodeTypes[nodes[n * NF + nType]!]!;
const nameOf = (n: number) => strings[nodes[n * NF + nName]!]!;
const selfSize = (n: number) => nodes[n * NF + nSize]!;
const firstEdge = new Uint32Array(count + 1);
for (let n = 0, e = 0; n < count; n++) {
  firstEdge[n] = e;
  e += nodes[n * NF + nEdges]! * EF;
  firstEdge[n + 1] = e;
}
const isString = (n: number) => ["string", "concatenated string", "sliced string"].includes(typeOf(n));
const label = (n: number) => {
  const type = typeOf(n);
  const name = nameOf(n);
  if (type === "object" || type === "native" || type === "synthetic") return `${name}`;
  if (type === "closure") return `closure ${name || "(anonymous)"}`;
  if (isString(n)) return "(string)";
  return `(${type})`;
};
/** A node as one line: its label, and for a big string its first characters. */
const describeNode = (n: number) =>
  isString(n) ? `(string) ${JSON.stringify(nameOf(n).slice(0, 60))}…` : label(n);
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

// ---- self size by kind ----
let total = 0;
const byLabel = new Map<string, { size: number; count: number }>();
for (let n = 0; n < count; n++) {
  const size = selfSize(n);
  total += size;
  const key = label(n);
  const entry = byLabel.get(key) ?? { size: 0, count: 0 };
  entry.size += size;
  entry.count++;
  byLabel.set(key, entry);
}
console.log(`${file}: ${count} nodes, ${mb(total)} in total`);
console.log(`\nself size by kind / constructor (top ${top}):`);
for (const [key, { size, count: c }] of [...byLabel].sort((a, b) => b[1].size - a[1].size).slice(0, top)) {
  console.log(`  ${mb(size).padStart(10)}  ${String(c).padStart(8)}×  ${key}`);
}

// ---- dominators (Cooper, Harvey & Kennedy), from the root (node 0), ignoring weak edges ----
const order = new Int32Array(count).fill(-1); // postorder index
const byOrder = new Int32Array(count);
const preds: number[][] = Array.from({ length: count }, () => []);
{
  const stack = [0];
  const nextEdge = new Uint32Array(count);
  const visited = new Uint8Array(count);
  visited[0] = 1;
  nextEdge[0] = firstEdge[0]!;
  let post = 0;
  while (stack.length > 0) {
    const n = stack[stack.length - 1]!;
    let pushed = false;
    while (nextEdge[n]! < firstEdge[n + 1]!) {
      const e = nextEdge[n]!;
      nextEdge[n] = e + EF;
      const type = edges[e + eType]!;
      if (type === weak || type === shortcut) continue;
      const to = edges[e + eTo]! / NF;
      preds[to]!.push(n);
      if (!visited[to]) {
        visited[to] = 1;
        nextEdge[to] = firstEdge[to]!;
        stack.push(to);
        pushed = true;
        break;
      }
    }
    if (!pushed) {
      stack.pop();
      order[n] = post;
      byOrder[post] = n;
      post++;
    }
  }
}
const idom = new Int32Array(count).fill(-1);
idom[0] = 0;
const intersect = (a: number, b: number) => {
  let x = a;
  let y = b;
  while (x !== y) {
    while (order[x]! < order[y]!) x = idom[x]!;
    while (order[y]! < order[x]!) y = idom[y]!;
  }
  return x;
};
for (let changed = true; changed; ) {
  changed = false;
  for (let i = count - 1; i >= 0; i--) {
    const n = byOrder[i]!;
    if (n === 0 || order[n] === -1) continue;
    let dom = -1;
    for (const p of preds[n]!) {
      if (idom[p] === -1 || order[p] === -1) continue;
      dom = dom === -1 ? p : intersect(p, dom);
    }
    if (dom !== -1 && idom[n] !== dom) {
      idom[n] = dom;
      changed = true;
    }
  }
}
const retained = new Float64Array(count);
for (let n = 0; n < count; n++) retained[n] = selfSize(n);
for (let i = 0; i < count; i++) {
  const n = byOrder[i]!;
  const dominator = idom[n]!;
  if (n !== 0 && order[n] !== -1 && dominator >= 0) retained[dominator] = retained[dominator]! + retained[n]!;
}

// The first strong edge that points at n, as "owner.edge" (for nodes the dominator tree roots directly).
const edgeName = (e: number) => {
  const type = edgeTypes[edges[e + eType]!];
  const name = edges[e + eName]!;
  return type === "element" || type === "hidden" ? `[${name}]` : String(strings[name]);
};
const retainerCache = new Map<number, string>();
function retainer(n: number): string {
  if (retainerCache.size === 0) {
    for (let from = 0; from < count; from++) {
      for (let e = firstEdge[from]!; e < firstEdge[from + 1]!; e += EF) {
        const type = edges[e + eType]!;
        if (type === weak || type === shortcut) continue;
        const to = edges[e + eTo]! / NF;
        if (!retainerCache.has(to)) retainerCache.set(to, `${label(from)}.${edgeName(e)}`);
      }
    }
  }
  return retainerCache.get(n) ?? "";
}

// ---- the biggest retainers: nodes that are not synthetic roots, with their dominator path ----
const path = (n: number) => {
  const parts: string[] = [];
  for (let x = idom[n]!, depth = 0; x > 0 && depth < 6; x = idom[x]!, depth++) parts.push(label(x));
  return parts.join(" ← ");
};
const candidates: number[] = [];
for (let n = 1; n < count; n++) {
  if (order[n] === -1 || typeOf(n) === "synthetic" || typeOf(n) === "hidden") continue;
  if (retained[n]! >= 512 * 1024) candidates.push(n);
}
candidates.sort((a, b) => retained[b]! - retained[a]!);
// Leave out nodes whose dominator is already listed (a Map and its backing table say the same thing).
const shown = new Set<number>();
console.log(`\nbiggest retained sizes (dominator tree; top ${top}):`);
for (const n of candidates) {
  let covered = false;
  for (let x = idom[n] ?? 0; x > 0; x = idom[x] ?? 0) if (shown.has(x)) covered = true;
  if (covered) continue;
  shown.add(n);
  console.log(`  ${mb(retained[n]!).padStart(10)}  ${describeNode(n)}  ← ${path(n) || retainer(n)}`);
  if (shown.size >= top) break;
}
