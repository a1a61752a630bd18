/**
 * Resume: a study interrupted at any point — by an exception after some commits, or by kill -9 in
 * the middle of a pass — finishes on the next start without retraining what was committed, leaves
 * no partial files, and ends byte-identical (every sae_weights.safetensors) and number-identical
 * (results) to an uninterrupted study.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStudy } from '../../src/study/study.js';
import { startTicks } from '../../src/study/lock.js';
import { StudyStore } from '../../src/study/store.js';
import { headline, readResults, tinySpecText, tmpDir, weightBytes, writeSpec } from './helpers.js';

let root: string;
let spec: string;
let reference: string;

beforeAll(async () => {
  root = tmpDir();
  spec = writeSpec(root, tinySpecText('runs_per_pass: 4\n'));
  reference = path.join(root, 'reference');
  await runStudy(spec, { out: reference, report: null });
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function rowsOf(dir: string): Map<string, { finishedAt: string; startedAt: string }> {
  const s = StudyStore.openExisting(dir);
  try {
    return new Map(s.runs().map((r) => [r.id, { finishedAt: r.finishedAt, startedAt: r.startedAt }]));
  } finally {
    s.close();
  }
}

function expectSameAsReference(dir: string): void {
  const want = weightBytes(reference);
  const got = weightBytes(dir);
  expect([...got.keys()]).toEqual([...want.keys()]);
  for (const [k, b] of want) expect(Buffer.compare(got.get(k) as Buffer, b), k).toBe(0);
  expect(headline(readResults(dir))).toEqual(headline(readResults(reference)));
  expect(fs.readdirSync(path.join(dir, 'runs')).filter((n) => n.startsWith('.'))).toEqual([]);
}

/** A husai lock body (lock.ts) for `pid`, with its start time read from /proc where there is one. */
function lockBody(pid: number): Record<string, unknown> {
  return {
    husai_lock: 'husai-lock/1',
    pid,
    host: os.hostname(),
    boot_id: null,
    start_ticks: startTicks(pid),
    started: 'then',
    nonce: 'test',
  };
}

describe('the study directory lock', () => {
  it('runStudy(spec) refuses a directory locked by a live process, naming its pid', async () => {
    const dir = path.join(root, 'locked');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, '.husai-lock'), JSON.stringify(lockBody(process.ppid)));
    await expect(runStudy(spec, { out: dir, report: null })).rejects.toThrow(
      `in use by husai process pid ${process.ppid} on host ${os.hostname()}`,
    );
  });

  it('runStudy(spec) takes over a stale lock (its process is gone) and removes it when done', async () => {
    const dir = path.join(root, 'stale');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, '.husai-lock'), JSON.stringify(lockBody(Number(gone))));
    const out = await runStudy(spec, { out: dir, report: null, analyse: false });
    expect(out.trained).toHaveLength(12);
    expect(fs.existsSync(path.join(dir, '.husai-lock'))).toBe(false);
  });
});

describe('runStudy(spec) with a diverging run', () => {
  it('records it as failed with its error, skips it on resume, and leaves it out of every statistic', async () => {
    const failing = writeSpec(root, `${tinySpecText()}arch_params:\n  relu: { lr: 1.0e+38 }\n`, 'failing.yaml');
    const dir = path.join(root, 'failing');
    const first = await runStudy(failing, { out: dir, report: null });
    expect(first.failed).toHaveLength(6);
    const again = await runStudy(failing, { out: dir, report: null });
    expect(again.trained).toEqual([]);
    const r = readResults(dir);
    const failed = r.runs.filter((x) => x.status === 'failed');
    expect(failed).toHaveLength(6);
    expect(
      failed.every((x) => x.arch === 'relu' && /not finite|non-finite|loss is/.test(x.error ?? '') && x.final === null),
    ).toBe(true);
    expect(r.cells.map((c) => c.arch)).toEqual(['topk', 'topk']);
    expect(r.methods.some((m) => m.startsWith('6 run(s) failed'))).toBe(true);
  });
});

describe('runStudy(spec) after a crash', () => {
  it('runStudy(spec, {out}) twice: the second start trains nothing', async () => {
    const again = await runStudy(spec, { out: reference, report: null });
    expect(again.trained).toEqual([]);
    expect(again.skipped).toHaveLength(12);
  });

  it('runStudy(spec) after an exception in onRunCommitted: resumes without retraining committed runs', async () => {
    const dir = path.join(root, 'crash');
    await expect(
      runStudy(spec, {
        out: dir,
        report: null,
        hooks: {
          onRunCommitted: (_id, n) => {
            if (n === 5) throw new Error('simulated crash');
          },
        },
      }),
    ).rejects.toThrow('simulated crash');
    const before = rowsOf(dir);
    expect(before.size).toBe(5);
    // The crash left the rest of the pass staged.
    expect(fs.readdirSync(path.join(dir, 'runs')).some((n) => n.startsWith('.staging-'))).toBe(true);

    const started: string[] = [];
    const out = await runStudy(spec, { out: dir, report: null, hooks: { onRunsStart: (ids) => started.push(...ids) } });
    expect(out.skipped.sort()).toEqual([...before.keys()].sort());
    expect(started.filter((id) => before.has(id))).toEqual([]);
    expect(out.trained).toHaveLength(7);
    const after = rowsOf(dir);
    for (const [id, r] of before) expect(after.get(id)).toEqual(r);
    expectSameAsReference(dir);
  });

  it('runStudy(spec) after a run directory lost its files: retrains only that run', async () => {
    const dir = path.join(root, 'altered');
    await runStudy(spec, { out: dir, report: null, analyse: false });
    const victim = [...rowsOf(dir).keys()][3];
    fs.writeFileSync(path.join(dir, 'runs', victim, 'sae_weights.safetensors'), 'garbage');
    fs.mkdirSync(path.join(dir, 'runs', 'ffffffffffff'));
    const out = await runStudy(spec, { out: dir, report: null });
    expect(out.trained).toEqual([victim]);
    expect(
      out.warnings.some((c) =>
        c.includes(`runs/${victim}: sae_weights.safetensors does not match its recorded sha256; moved to quarantine`),
      ),
    ).toBe(true);
    expect(
      out.warnings.some((c) =>
        c.includes('runs/ffffffffffff: no row in the database and no valid husai-run.json; moved to quarantine'),
      ),
    ).toBe(true);
    expectSameAsReference(dir);
  });

  it('runStudy(spec) after kill -9 in the middle of a pass: resumes, same bytes and numbers', async () => {
    const dir = path.join(root, 'killed');
    const root0 = path.resolve(__dirname, '..', '..');
    const child = spawn(
      process.execPath,
      [
        path.join(root0, 'node_modules', 'vite-node', 'vite-node.mjs'),
        path.join(root0, 'test', 'study', 'kill-child.ts'),
        spec,
        dir,
      ],
      {
        cwd: root0,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const committed: string[] = [];
    let starts = 0;
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (b: Buffer) => {
        buf += b.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.startsWith('committed ')) committed.push(line.slice(10));
          if (line.startsWith('start ')) starts++;
          // Kill once the second pass is committed and the third is under way.
          if (line.startsWith('start ') && starts === 3)
            setTimeout(() => {
              child.kill('SIGKILL');
              resolve();
            }, 150);
          if (line === 'finished') reject(new Error('the child finished before it could be killed'));
        }
      });
      void exited.then(() => setTimeout(() => reject(new Error(`child exited early: ${stderr.slice(-2000)}`)), 500));
    });
    await exited;
    expect(committed).toHaveLength(8);
    const before = rowsOf(dir);
    expect([...before.keys()].sort()).toEqual([...committed].sort());
    expect(fs.readdirSync(path.join(dir, 'runs')).some((n) => n.startsWith('.staging-'))).toBe(true);
    // The database is consistent after the kill (WAL replayed on open).
    const db = new Database(path.join(dir, 'study.sqlite'));
    expect((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check).toBe('ok');
    db.close();

    const started: string[] = [];
    const out = await runStudy(spec, { out: dir, report: null, hooks: { onRunsStart: (ids) => started.push(...ids) } });
    expect(started.filter((id) => before.has(id))).toEqual([]);
    expect(out.trained).toHaveLength(4);
    for (const [id, r] of before) expect(rowsOf(dir).get(id)).toEqual(r);
    expectSameAsReference(dir);
  });
});
