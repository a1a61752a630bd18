/**
 * `husai study --jobs J`: J worker processes train slices of the runs into one study directory and
 * give the same bytes as one process; killing the parent (kill -9) stops its workers (they watch
 * their parent pid), and the next start resumes from what was committed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStudy } from '../../src/study/study.js';
import { headline, readResults, tinySpecText, tmpDir, weightBytes, writeSpec } from './helpers.js';

const repo = path.resolve(__dirname, '..', '..');
let root: string;

beforeAll(() => {
  root = tmpDir();
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function cli(args: string[]): ChildProcess {
  return spawn(
    process.execPath,
    [
      path.join(repo, 'node_modules', 'vite-node', 'vite-node.mjs'),
      path.join(repo, 'test', 'study', 'cli-harness.ts'),
      ...args,
    ],
    {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

function finished(child: ChildProcess): Promise<{ code: number | null; out: string; err: string }> {
  let out = '';
  let err = '';
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
}

function expectSameRuns(dir: string, reference: string): void {
  const want = weightBytes(reference);
  const got = weightBytes(dir);
  expect([...got.keys()]).toEqual([...want.keys()]);
  for (const [k, b] of want) expect(Buffer.compare(got.get(k) as Buffer, b), k).toBe(0);
}

/** Process ids whose command line mentions `text` (Linux /proc). */
function processesWith(text: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text)) out.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Rows in the runs table, 0 while the store is still being created (file there, schema not yet). */
function committedRuns(db: string): number {
  if (!fs.existsSync(db)) return 0;
  const conn = new Database(db, { readonly: true });
  try {
    return (conn.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n;
  } catch {
    return 0;
  } finally {
    conn.close();
  }
}

describe('husai study --jobs', () => {
  it('husai study SPEC --jobs 2 --json: two workers, the same bytes and numbers as one process', async () => {
    const spec = writeSpec(root, tinySpecText(), 'tiny.yaml');
    const one = path.join(root, 'one');
    await runStudy(spec, { out: one, report: null });
    const two = path.join(root, 'two');
    const r = await finished(cli(['study', spec, '--out', two, '--jobs', '2', '--no-report', '--json']));
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out) as { runs: { trained: number }; cells: unknown[] };
    expect(summary.runs.trained).toBe(12);
    expect(summary.cells).toHaveLength(4);
    expectSameRuns(two, one);
    expect(headline(readResults(two))).toEqual(headline(readResults(one)));
    const threads = new Database(path.join(two, 'study.sqlite'))
      .prepare('SELECT DISTINCT threads FROM runs')
      .all() as Array<{ threads: number }>;
    expect(threads).toEqual([{ threads: 1 }]);
  });

  it('kill -9 of the parent stops its workers; the next start finishes the study', async () => {
    const spec = writeSpec(
      root,
      tinySpecText().replace('d: 8, features: 12', 'd: 16, features: 24').replace('steps: 100', 'steps: 3000') +
        'runs_per_pass: 1\n',
      'slow.yaml',
    );
    const dir = path.join(root, 'killed');
    const parent = cli(['study', spec, '--out', dir, '--jobs', '2', '--no-report']);
    const exit = finished(parent);
    const db = path.join(dir, 'study.sqlite');
    const t0 = Date.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 50));
      if (Date.now() - t0 > 60_000) throw new Error('no run committed within 60 s');
      if (committedRuns(db) >= 2) break;
    }
    parent.kill('SIGKILL');
    await exit;
    const t1 = Date.now();
    while (processesWith(`--worker`).some((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir))) {
      if (Date.now() - t1 > 15_000) throw new Error('worker processes outlived their parent by 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const done = committedRuns(db);
    // Killed early: the workers stopped within a run of the kill instead of finishing their slices.
    expect(done).toBeLessThan(9);

    const resumed = await runStudy(spec, { out: dir, report: null });
    expect(resumed.skipped).toHaveLength(done);
    expect(resumed.trained).toHaveLength(12 - done);
    const reference = path.join(root, 'slow-reference');
    await runStudy(spec, { out: reference, report: null });
    expectSameRuns(dir, reference);
  });
});
