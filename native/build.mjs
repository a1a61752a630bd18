#!/usr/bin/env node
// Builds husai's native engine (build/Release/husai_native.node) with the node-gyp that ships
// inside npm. Run by `npm ci` / `npm install` (package.json "install") and `npm run build:native`.
//
// A failed build never fails the install: husai then runs on its TypeScript reference engine
// (correct, much slower), and this script says so and how to fix it.
//
// Environment:
//   HUSAI_SKIP_NATIVE=1  do not build (husai uses the reference engine)
//   HUSAI_NO_BLAS=1      build without OpenBLAS (built-in GEMM; used to test the fallback)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const addon = path.join(root, 'build', 'Release', 'husai_native.node');

function warn(lines) {
  const bar = '-'.repeat(78);
  process.stderr.write(`\n${bar}\n${lines.map((l) => `husai: ${l}`).join('\n')}\n${bar}\n\n`);
}

function fallback(reason) {
  warn([
    `WARNING: the native engine was not built (${reason}).`,
    'husai will use the slower TypeScript reference engine (same results, 10-100x slower).',
    'To fix: install a C++ toolchain and OpenBLAS, then rebuild, e.g. on Debian/Ubuntu:',
    '  apt-get install build-essential python3 libopenblas-openmp-dev',
    '  npm run build:native        (or: npm rebuild / npm ci)',
  ]);
  process.exit(0);
}

/** npm's bundled node-gyp: from npm's own environment, else next to the npm that runs us or ships with node. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath) {
    // .../npm/bin/npm-cli.js → .../npm/node_modules/node-gyp/bin/node-gyp.js
    candidates.push(path.resolve(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  const nodeDir = path.dirname(process.execPath);
  for (const npmDir of [
    path.resolve(nodeDir, '..', 'lib', 'node_modules', 'npm'), // Unix: <prefix>/bin/node
    path.resolve(nodeDir, 'node_modules', 'npm'), // Windows: <prefix>\node.exe
    '/usr/share/nodejs/npm', // Debian's packaged npm
  ]) {
    candidates.push(path.join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  try {
    candidates.push(createRequire(path.join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally; fine
  }
  return candidates.find((p) => p && fs.existsSync(p)) ?? null;
}

/** Headers for an offline build: npm's nodedir setting, else the prefix of the running node. */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'common.gypi'))) return [`--nodedir=${prefix}`];
  return []; // node-gyp falls back to its header cache (downloads headers if it must)
}

if (process.env.HUSAI_SKIP_NATIVE && process.env.HUSAI_SKIP_NATIVE !== '0') {
  fallback('HUSAI_SKIP_NATIVE is set');
}

const gyp = findNodeGyp();
if (!gyp) fallback('node-gyp was not found (it ships with npm; is npm installed next to node?)');

const blas = spawnSync(process.execPath, [path.join(root, 'native', 'blas-config.mjs'), 'describe'], { encoding: 'utf8' });
process.stderr.write(`husai: native build: ${(blas.stdout || '').trim() || 'BLAS detection failed'}\n`);

const args = [gyp, 'rebuild', '--release', `--jobs=${Math.max(1, Math.min(4, os.availableParallelism()))}`, ...nodedirArgs()];
const res = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: process.env });
if (res.error) fallback(`could not run node-gyp: ${res.error.message}`);
if (res.status !== 0) fallback(`node-gyp exited with status ${res.status ?? res.signal}; see the compiler output above`);
if (!fs.existsSync(addon)) fallback(`the build reported success but ${path.relative(root, addon)} is missing`);

// Load it once here, so a link problem (e.g. libopenblas.so.0 not found) shows at install time.
const check = spawnSync(
  process.execPath,
  ['-e', `const a = require(${JSON.stringify(addon)}); const i = a.info(); console.log(i.blas + ' / ' + (i.blasCore || '-') + ' / ' + i.blasThreading + ' / ' + i.threads + ' threads');`],
  { encoding: 'utf8' },
);
if (check.status !== 0) fallback(`the built addon does not load: ${(check.stderr || '').trim().split('\n')[0]}`);
process.stderr.write(`husai: native engine built: ${path.relative(root, addon)} (${check.stdout.trim()})\n`);

