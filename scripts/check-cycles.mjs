// Import cycles among a folder's TypeScript files (default src/), for `npm run lint`: docs/ARCHITECTURE.md's
// layers point downward, and within a layer files must not lean on each other in a circle either
// (a cycle makes module initialisation order matter and hides which file owns what). Type-only
// imports count: a type cycle is the same tangle, only without the runtime symptom.
//
// Imports are read with TypeScript's own pre-processor (ts.preProcessFile: static, re-exports,
// side-effect and dynamic imports; comments and strings handled by the real scanner), relative
// specifiers resolved NodeNext-style ('./x.js' → x.ts). Cycles are the strongly connected
// components of that graph (Tarjan); each is reported as one concrete closed path through it.
//
// Usage: node scripts/check-cycles.mjs [DIR]   exit 0 when acyclic, 1 naming each cycle.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Every .ts file under `dir` (no .d.ts), sorted. */
function tsFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

/** Map file → the files of the same tree it imports (relative specifiers only). */
export function importGraph(dir) {
  const files = tsFiles(dir);
  const known = new Set(files);
  const graph = new Map();
  for (const file of files) {
    const deps = new Set();
    for (const { fileName: spec } of ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!spec.startsWith('./') && !spec.startsWith('../')) continue;
      const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
      if (known.has(target)) deps.add(target);
    }
    graph.set(file, [...deps].sort());
  }
  return graph;
}

/**
 * The graph's cycles: per strongly connected component with a cycle, one shortest closed path
 * `path` = [a, …, a] through its first file and all the files tangled in it (`members`).
 */
export function findCycles(graph) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  let next = 0;
  const visit = (v) => {
    // Tarjan, recursive (source trees are shallow)
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      components.push(comp);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  const cycles = [];
  for (const comp of components) {
    const members = new Set(comp);
    const start = [...comp].sort()[0];
    if (comp.length === 1 && !(graph.get(start) ?? []).includes(start)) continue;
    // Shortest path start → … → start inside the component (breadth first).
    const prev = new Map();
    const queue = [start];
    let found = false;
    while (queue.length > 0 && !found) {
      const v = queue.shift();
      for (const w of graph.get(v) ?? []) {
        if (!members.has(w)) continue;
        if (w === start) {
          prev.set(start, v);
          found = true;
          break;
        }
        if (!prev.has(w)) {
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    const path = [start];
    for (let v = prev.get(start); v !== start; v = prev.get(v)) path.unshift(v);
    path.unshift(start);
    cycles.push({ path, members: [...comp].sort() });
  }
  return cycles.sort((a, b) => (a.path[0] < b.path[0] ? -1 : 1));
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? 'src';
  const cycles = findCycles(importGraph(path.resolve(dir)));
  const rel = (f) => path.relative(process.cwd(), f);
  for (const { path: p, members } of cycles) {
    const more =
      members.length > p.length - 1 ? ` (${members.length} files tangled: ${members.map(rel).join(', ')})` : '';
    console.error(`import cycle: ${p.map(rel).join(' → ')}${more}`);
  }
  if (cycles.length > 0) {
    console.error(
      `${cycles.length} import cycle(s) under ${dir}/ (docs/ARCHITECTURE.md: imports point one way; move the shared part into a file both can import)`,
    );
    process.exit(1);
  }
}
