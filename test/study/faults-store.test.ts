/**
 * Fault injection on the study store (issue 12): a kill at every durable step of a study (every
 * atomic write, rename and SQLite commit: core/faults.ts HUSAI_FAULT=kill@N, in a child process)
 * resumes to the same results without retraining a finished run; an injected ENOSPC fails with its
 * code and resumes; two processes racing for a stale lock never both run; a user's files survive;
 * and damaged state (checkpoint hash, cfg.json, emptied / damaged / missing study.sqlite, missing
 * checkpoint folder, a folder left between mkdir and database, stale temp files, runs of other
 * numerics) each gives a message, loses nothing and resumes to the same results.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetFaults } from '../../src/core/faults.js';
import { startTicks } from '../../src/study/lock.js';
import { runStudy } from '../../src/study/study.js';
import { StudyStore } from '../../src/study/store.js';
import { headline, readResults, tmpDir, weightBytes, writeSpec } from './helpers.js';

const repo = path.resolve(__dirname, '..', '..');
const SPEC = `name: faults
question: does the store survive a kill at every durable step?
data:
  kind: synthetic
  generator: exact-k
  options: { n: 1024, d: 8, features: 12, k: 2, seed: 3 }
defaults:
  steps: 60
  batch_size: 64
  k: 2
grid:
  arch: [topk]
  width_ratio: [1]
  seed: [0, 1]
checkpoints: [0]
eval_rows: 256
runs_per_pass: 1
`;
/** Fault points of one uninterrupted study of SPEC (HUSAI_FAULT=count): 24 with this code. */
let points = 0;
let root: string;
let spec: string;
let reference: string;

/** Runs test/study/fault-child.ts with `args` and extra environment; resolves with its exit code, signal and output. */
function child(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(
      process.execPath,
      [
        path.join(repo, 'node_modules', 'vite-node', 'vite-node.mjs'),
        path.join(repo, 'test', 'study', 'fault-child.ts'),
        ...args,
      ],
      {
        cwd: repo,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    p.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    p.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function rows(dir: string): Map<string, string> {
  if (!fs.existsSync(path.join(dir, 'study.sqlite'))) return new Map();
  const s = StudyStore.openExisting(dir);
  try {
    return new Map(s.runs().map((r) => [r.id, r.finishedAt]));
  } finally {
    s.close();
  }
}

function copyOfReference(name: string): string {
  const dir = path.join(root, name);
  fs.cpSync(reference, dir, { recursive: true });
  return dir;
}

/** Same weights bytes and headline numbers as the uninterrupted reference study. */
function expectSameAsReference(dir: string): void {
  const want = weightBytes(reference);
  const got = weightBytes(dir);
  expect([...got.keys()]).toEqual([...want.keys()]);
  for (const [k, b] of want) expect(Buffer.compare(got.get(k) as Buffer, b), k).toBe(0);
  expect(headline(readResults(dir))).toEqual(headline(readResults(reference)));
}

beforeAll(async () => {
  root = tmpDir('husai-faults-');
  spec = writeSpec(root, SPEC);
  reference = path.join(root, 'reference');
  const counted = await child(['study', spec, reference], { HUSAI_FAULT: 'count' });
  expect(counted.stdout).toContain('finished');
  points = counted.stderr.split('\n').filter((l) => l.startsWith('husai-fault ')).length;
}, 60_000);

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** Kills a study at fault point n, resumes it here, and checks it against the reference. */
async function killAndResume(n: number): Promise<void> {
  const dir = path.join(root, `kill-${n}`);
  const r = await child(['study', spec, dir], { HUSAI_FAULT: `kill@${n}` });
  expect(r.signal, `kill@${n}: ${r.stderr.slice(-500)}`).toBe('SIGKILL');
  const before = rows(dir);
  const out = await runStudy(spec, { out: dir, report: null });
  expect(
    out.trained.filter((id) => before.has(id)),
    `kill@${n}: retrained a finished run`,
  ).toEqual([]);
  const after = rows(dir);
  for (const [id, finishedAt] of before) expect(after.get(id), `kill@${n}: row ${id} changed`).toBe(finishedAt);
  expectSameAsReference(dir);
  expect(fs.readdirSync(path.join(dir, 'runs')).filter((x) => x.startsWith('.'))).toEqual([]);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Runs `f` over `items`, two at a time. */
async function pairwise<T>(items: readonly T[], f: (x: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += 2) await Promise.all(items.slice(i, i + 2).map(f));
}

describe('kill -9 at every durable step (HUSAI_FAULT=kill@N)', () => {
  it('the study has the expected fault points (writes, renames, commits)', () => {
    expect(points).toBeGreaterThanOrEqual(20);
    expect(points).toBeLessThanOrEqual(30);
  });
  // Every STRIDE-th point (1, 5, 9, …: a meta commit, each kind of write, a rename, a run commit, the
  // analyses), two per test; HUSAI_FAULT_STRIDE=1 sweeps all 24 (about 2.5 minutes on 2 busy cores).
  const stride = Number(process.env.HUSAI_FAULT_STRIDE ?? 4);
  const parts = Math.ceil(24 / stride / 2);
  const every = (): number[] => Array.from({ length: points }, (_, i) => i + 1).filter((n) => (n - 1) % stride === 0);
  for (let part = 0; part < parts; part++) {
    it(`killed at every ${stride}th point, part ${part + 1}/${parts}: resumes, nothing retrained, the same results`, async () => {
      await pairwise(every().slice(2 * part, part === parts - 1 ? undefined : 2 * part + 2), killAndResume);
    }, 60_000);
  }
});

describe('an injected full disk (HUSAI_FAULT=enospc@N)', () => {
  it('runStudy(spec) throws an error with code ENOSPC at the Nth write, then resumes to the same results', async () => {
    const dir = path.join(root, 'enospc');
    process.env.HUSAI_FAULT = 'enospc@9';
    resetFaults();
    try {
      await expect(runStudy(spec, { out: dir, report: null })).rejects.toMatchObject({ code: 'ENOSPC' });
    } finally {
      delete process.env.HUSAI_FAULT;
      resetFaults();
    }
    expect(fs.existsSync(path.join(dir, '.husai-lock'))).toBe(false);
    await runStudy(spec, { out: dir, report: null });
    expectSameAsReference(dir);
  });
});

/** A husai lock body (lock.ts) for `pid`; `ticks` overrides its process start time. */
function lockBody(pid: number, ticks: number | null = startTicks(pid)): Record<string, unknown> {
  return {
    husai_lock: 'husai-lock/1',
    pid,
    host: os.hostname(),
    boot_id: null,
    start_ticks: ticks,
    started: '2026-01-01T00:00:00Z',
    nonce: `n${pid}`,
  };
}

function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());
}

/**
 * Two `fault-child.ts lock GO DIR…` processes: both load and say "ready", then start together when
 * the go file appears, say "done", and hold every lock they took until they are killed here (so a
 * slow child can never find the other's locks stale). Resolves with their outputs.
 */
function race(go: string, dirs: string[]): Promise<Array<{ stdout: string; stderr: string }>> {
  const vn = path.join(repo, 'node_modules', 'vite-node', 'vite-node.mjs');
  const kids = [0, 1].map(() =>
    spawn(process.execPath, [vn, path.join(repo, 'test', 'study', 'fault-child.ts'), 'lock', go, ...dirs], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const out = kids.map(() => ({ stdout: '', stderr: '' }));
  return new Promise((resolve, reject) => {
    let exited = 0;
    const count = (word: string): number => out.filter((o) => o.stdout.split('\n').includes(word)).length;
    kids.forEach((k, i) => {
      k.stdout.on('data', (b: Buffer) => {
        out[i].stdout += b.toString();
        if (count('ready') === 2 && !fs.existsSync(go)) fs.writeFileSync(go, '');
        if (count('done') === 2) for (const kk of kids) kk.kill('SIGKILL');
      });
      k.stderr.on('data', (b: Buffer) => {
        out[i].stderr += b.toString();
      });
      k.on('exit', () => {
        if (++exited < 2) return;
        if (count('done') === 2) resolve(out);
        else reject(new Error(`a lock child failed: ${out.map((o) => o.stderr).join('\n')}`));
      });
    });
  });
}

describe('the study lock', () => {
  it('two processes starting on a stale lock: exactly one takes it, in each of 16 trials', async () => {
    const dirs = Array.from({ length: 16 }, (_, i) => path.join(root, `race-${i}`));
    const gone = deadPid();
    for (const d of dirs) {
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, '.husai-lock'), JSON.stringify(lockBody(gone, 12345)));
    }
    const [a, b] = await race(path.join(root, 'race-go'), dirs);
    for (let i = 0; i < dirs.length; i++) {
      const got = [a, b].filter((r) => r.stdout.includes(`got ${i}\n`)).length;
      expect(got, `trial ${i}: ${a.stdout} | ${b.stdout} | ${a.stderr} ${b.stderr}`).toBe(1);
      expect(`${a.stdout}${b.stdout}`).toMatch(
        new RegExp(`refused ${i} .* is in use by husai process pid \\d+ on host .*, started `),
      );
    }
  }, 60_000);

  it('runStudy(spec) takes over a lock whose pid now belongs to another process (start time differs)', async () => {
    const dir = path.join(root, 'reused-pid');
    fs.mkdirSync(dir);
    // This test process is alive, but it did not start at tick 1: the lock's owner is gone.
    fs.writeFileSync(path.join(dir, '.husai-lock'), JSON.stringify(lockBody(process.ppid, 1)));
    const out = await runStudy(spec, { out: dir, report: null, analyse: false });
    expect(out.trained).toHaveLength(2);
    expect(fs.existsSync(path.join(dir, '.husai-lock'))).toBe(false);
  });

  it('runStudy(spec) refuses a live lock, naming pid, host and start time', async () => {
    const dir = copyOfReference('live-lock');
    fs.writeFileSync(path.join(dir, '.husai-lock'), JSON.stringify(lockBody(process.ppid)));
    await expect(runStudy(spec, { out: dir, report: null })).rejects.toThrow(
      `in use by husai process pid ${process.ppid} on host ${os.hostname()}, started 2026-01-01T00:00:00Z`,
    );
    expect(JSON.parse(fs.readFileSync(path.join(dir, '.husai-lock'), 'utf8'))).toEqual(lockBody(process.ppid));
  });
});

describe("a user's files", () => {
  it("runStudy(spec, {out}) with a user's file named lock in DIR: refused with a message, the file survives", async () => {
    const dir = path.join(root, 'user-lock');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'lock'), 'my notes\n');
    await expect(runStudy(spec, { out: dir, report: null })).rejects.toThrow(
      `${dir} is not empty and not a husai study (it holds lock)`,
    );
    expect(fs.readdirSync(dir)).toEqual(['lock']);
    expect(fs.readFileSync(path.join(dir, 'lock'), 'utf8')).toBe('my notes\n');
  });

  it('runStudy(spec) with a .husai-lock that husai did not write: refused naming it, the file survives', async () => {
    const dir = copyOfReference('foreign-lock');
    fs.writeFileSync(path.join(dir, '.husai-lock'), 'not ours');
    await expect(runStudy(spec, { out: dir, report: null })).rejects.toThrow(
      `${path.join(dir, '.husai-lock')} is not a husai lock`,
    );
    expect(fs.readFileSync(path.join(dir, '.husai-lock'), 'utf8')).toBe('not ours');
  });

  it("resume: a user's files in DIR and DIR/runs are left alone (warning), nothing retrained", async () => {
    const dir = copyOfReference('user-files');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    fs.writeFileSync(path.join(dir, 'runs', 'notes.txt'), 'mine too');
    fs.writeFileSync(path.join(dir, 'data.tmp-1'), 'a user name that looks like a temp file');
    const out = await runStudy(spec, { out: dir, report: null });
    expect(out.trained).toEqual([]);
    expect(out.warnings).toContain('runs/notes.txt is not a husai run folder; left alone');
    for (const f of ['notes.txt', 'runs/notes.txt', 'data.tmp-1'])
      expect(fs.existsSync(path.join(dir, f)), f).toBe(true);
  });
});

/** Run ids of the reference study, sorted. */
function ids(): string[] {
  return [...rows(reference).keys()].sort();
}

function quarantined(dir: string): string[] {
  const q = path.join(dir, 'quarantine');
  return fs.existsSync(q) ? fs.readdirSync(q) : [];
}

describe('damaged state on resume', () => {
  it('a checkpoint whose weights no longer match their sha256: warning, moved to quarantine, retrained, the same results', async () => {
    const dir = copyOfReference('bad-ck');
    const victim = ids()[0];
    const file = path.join(dir, 'runs', victim, 'checkpoints', 'step-0', 'sae_weights.safetensors');
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(file, bytes);
    const out = await runStudy(spec, { out: dir, report: null });
    expect(out.trained).toEqual([victim]);
    expect(out.warnings.join('\n')).toContain(
      `runs/${victim}: checkpoint step 0: sae_weights.safetensors does not match its recorded sha256; moved to quarantine/${victim}-`,
    );
    expect(quarantined(dir)).toHaveLength(1);
    expect(quarantined(dir)[0]).toMatch(new RegExp(`^${victim}-\\d{4}-`));
    expect(
      fs.readFileSync(
        path.join(dir, 'quarantine', quarantined(dir)[0], 'checkpoints', 'step-0', 'sae_weights.safetensors'),
      ),
    ).toEqual(bytes);
    expectSameAsReference(dir);
  });

  it('a damaged cfg.json: warning, the run folder quarantined (not deleted) and retrained, the same results', async () => {
    const dir = copyOfReference('bad-cfg');
    const victim = ids()[1];
    fs.writeFileSync(path.join(dir, 'runs', victim, 'cfg.json'), '{"d_in": 8,');
    const out = await runStudy(spec, { out: dir, report: null });
    expect(out.trained).toEqual([victim]);
    expect(out.warnings.join('\n')).toContain(`runs/${victim}: cfg.json is damaged (not JSON); moved to quarantine/`);
    expect(fs.readFileSync(path.join(dir, 'quarantine', quarantined(dir)[0], 'cfg.json'), 'utf8')).toBe('{"d_in": 8,');
    expectSameAsReference(dir);
  });

  it('a missing checkpoint folder: warning, quarantined, retrained, the same results', async () => {
    const dir = copyOfReference('no-ck');
    const victim = ids()[0];
    fs.rmSync(path.join(dir, 'runs', victim, 'checkpoints', 'step-0'), { recursive: true });
    const out = await runStudy(spec, { out: dir, report: null });
    expect(out.trained).toEqual([victim]);
    expect(out.warnings.join('\n')).toContain(`runs/${victim}: checkpoint step 0: step-0 is missing`);
    expectSameAsReference(dir);
  });

  for (const how of ['emptied', 'damaged', 'missing'] as const) {
    it(`an ${how} study.sqlite: rebuilt from the run folders, no finished run deleted or retrained, the same results`, async () => {
      const dir = copyOfReference(`db-${how}`);
      const db = path.join(dir, 'study.sqlite');
      if (how === 'emptied') fs.truncateSync(db, 0);
      if (how === 'damaged')
        fs.writeFileSync(db, 'this is not a database, it is long enough to look like a header....'.repeat(2));
      if (how === 'missing') fs.rmSync(db);
      const out = await runStudy(spec, { out: dir, report: null });
      expect(out.trained).toEqual([]);
      expect(out.skipped.sort()).toEqual(ids());
      expect(out.warnings.filter((w) => w.includes('restored from its husai-run.json'))).toHaveLength(2);
      if (how === 'damaged')
        expect(out.warnings[0]).toMatch(
          /^study\.sqlite was damaged \(SQLITE_NOTADB\); moved to quarantine\/study\.sqlite-/,
        );
      expectSameAsReference(dir);
      // The curves came back too.
      const s = StudyStore.openExisting(dir);
      const r = StudyStore.openExisting(reference);
      try {
        for (const id of ids()) expect(s.curve(id)).toEqual(r.curve(id));
        expect(s.getMeta('created_at')).toBe(r.getMeta('created_at'));
      } finally {
        s.close();
        r.close();
      }
    });
  }

  it('a folder left between mkdir runs/ and the database, with stale temporaries: resumes, the same results', async () => {
    const dir = path.join(root, 'mkdir-only');
    fs.mkdirSync(path.join(dir, 'runs'), { recursive: true });
    const gone = deadPid();
    fs.writeFileSync(path.join(dir, '.husai-lock'), JSON.stringify(lockBody(gone)));
    await runStudy(spec, { out: dir, report: null });
    expectSameAsReference(dir);
    const victim = ids()[0];
    fs.writeFileSync(path.join(dir, `manifest.json.tmp-${gone}`), 'partial');
    fs.writeFileSync(path.join(dir, 'runs', victim, `husai-run.json.tmp-${gone}`), 'partial');
    const out = await runStudy(spec, { out: dir, report: null });
    expect(out.trained).toEqual([]);
    expect(out.cleaned.sort()).toEqual([`manifest.json.tmp-${gone}`, `runs/${victim}/husai-run.json.tmp-${gone}`]);
    expect(fs.existsSync(path.join(dir, `manifest.json.tmp-${gone}`))).toBe(false);
  });
});

describe('runs of other numerics', () => {
  it('resuming a study whose runs came from another numerics version or engine: refused naming both; --allow-mixed trains on and says which', async () => {
    const dir = copyOfReference('mixed');
    const victim = ids()[0];
    const db = new Database(path.join(dir, 'study.sqlite'));
    db.prepare(
      "UPDATE runs SET husai_version = '0.0.9', numerics_version = 0, engine = 'reference', blas = 'typescript' WHERE id <> ?",
    ).run(victim);
    db.prepare('DELETE FROM runs WHERE id = ?').run(victim);
    db.close();
    fs.rmSync(path.join(dir, 'runs', victim), { recursive: true });
    await expect(runStudy(spec, { out: dir, report: null })).rejects.toThrow(
      /runs\/[0-9a-f]{12} were trained by husai 0\.0\.9 \(numerics 0\) on reference\/typescript; this is husai \S+ \(numerics 1\) on (native|reference)\//,
    );
    const out = await runStudy(spec, { out: dir, report: null, allowMixed: true });
    expect(out.trained).toEqual([victim]);
    const r = readResults(dir);
    expect(r.study.mixed).toBe(true);
    expect(r.study.trainedBy?.map((g) => g.runs).sort()).toEqual([1, 1]);
    expect(r.runs.find((x) => x.id !== victim)?.provenance).toMatch(
      /^husai 0\.0\.9 \(numerics 0\) on reference\/typescript/,
    );
    expect(
      r.methods.some(
        (m) =>
          m.startsWith('The runs were trained by ') && m.includes('husai 0.0.9 (numerics 0) on reference/typescript'),
      ),
    ).toBe(true);
  });
});
