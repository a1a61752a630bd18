/**
 * husai overwrites only what it wrote (issue 12, deliverable 1), through the real CLI
 * (`node bin/husai.js`, compiled into dist/ first) where a process boundary matters — exit codes,
 * a SIGKILL during `husai synth` — and in-process for the report writers. Each case: a user's file
 * in --out survives byte for byte and the command exits non-zero naming it; husai's own outputs
 * are replaced whole and consistently.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/errors.js';
import { openDataset } from '../../src/data/dataset.js';
import { isSynthFolder, verifySynthFolder, writeSynthFolder } from '../../src/data/synth-folder.js';
import { generateSynthetic } from '../../src/data/synthetic/index.js';
import { sha256File } from '../../src/formats/io.js';
import { ForeignOutputError, restoreInterruptedSwap } from '../../src/formats/owned.js';
import { writeCardsReport } from '../../src/report/cards.js';
import { writeReport } from '../../src/report/index.js';
import { writeUniversalityReport } from '../../src/report/universality.js';
import type { FeatureCards } from '../../src/inspect/cards.js';
import type { UniversalityMatrix } from '../../src/inspect/universality-matrix.js';
import { ensureDist } from './dist.js';

const repo = path.resolve(__dirname, '..', '..');
let tmp: string;

/** Runs node with `args` without blocking the test worker; resolves with the exit code and both streams. */
function run(args: string[], cwd: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 }, (error, out, err) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out, err });
    });
  });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'husai-owned-cli-'));
  await ensureDist();
}, 300_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const husaiArgs = (args: string[]): string[] => [path.join(repo, 'bin', 'husai.js'), ...args];
const env = { ...process.env, HUSAI_THREADS: '1' };
const husai = (...args: string[]) => run(husaiArgs(args), tmp);

const at = (...p: string[]): string => path.join(tmp, ...p);
const put = (rel: string, bytes: string): string => {
  fs.mkdirSync(path.dirname(at(rel)), { recursive: true });
  fs.writeFileSync(at(rel), bytes);
  return at(rel);
};
/** `husai synth` in-process (setup, where the CLI is not what is tested). */
function synthHere(out: string, opts: { n?: number; d?: number; features?: number; seed?: number } = {}): void {
  const data = generateSynthetic('exact-k', { n: 256, d: 8, features: 12, k: 2, seed: 0, ...opts });
  writeSynthFolder(at(out), data.acts, data.gt, data.config);
}
const synth = (out: string, ...more: string[]) =>
  husai('synth', '--samples', '256', '--d', '8', '--features', '12', '--k', '2', '--out', out, ...more);

/** The synth folder is complete and its three files belong together (meta.json's shapes, sizes and hashes). */
function expectConsistentSynth(dir: string): Record<string, unknown> {
  expect(isSynthFolder(dir)).toBe(true);
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as Record<string, unknown>;
  expect(sha256File(path.join(dir, 'acts.npy')).sha256).toBe(meta.acts_sha256);
  expect(sha256File(path.join(dir, 'gt.npy')).sha256).toBe(meta.gt_sha256);
  expect(() => verifySynthFolder(dir)).not.toThrow();
  expect(fs.readdirSync(dir).sort()).toEqual(['acts.npy', 'gt.npy', 'meta.json']);
  return meta;
}

describe('husai synth --out DIR', () => {
  it("DIR holding a user's file: exit non-zero naming DIR and the file, the file byte-identical, nothing written", async () => {
    const notes = put('s-user/notes.txt', 'my notes\n');
    const r = await synth('s-user');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(at('s-user'));
    expect(r.err).toContain('notes.txt');
    expect(r.err).toMatch(/another --out|remove/);
    expect(fs.readFileSync(notes, 'utf8')).toBe('my notes\n');
    expect(fs.readdirSync(at('s-user'))).toEqual(['notes.txt']);
    expect(fs.readdirSync(tmp).filter((n) => n.startsWith('.s-user.'))).toEqual([]);
  });

  it("DIR holding a user's acts.npy (no husai meta.json): refused, acts.npy untouched", async () => {
    const acts = put('s-acts/acts.npy', "not husai's");
    expect((await synth('s-acts')).code).not.toBe(0);
    expect(fs.readFileSync(acts, 'utf8')).toBe("not husai's");
  });

  it('re-run with other options: acts, gt and meta all replaced together, hashes match meta.json, no temp left', async () => {
    synthHere('s-rerun', { seed: 1 });
    const first = expectConsistentSynth(at('s-rerun'));
    const r = await husai(
      'synth',
      '--samples',
      '300',
      '--d',
      '6',
      '--features',
      '10',
      '--k',
      '3',
      '--seed',
      '2',
      '--out',
      's-rerun',
    );
    expect(r.code, r.err).toBe(0);
    const second = expectConsistentSynth(at('s-rerun'));
    expect(second.acts_shape).toEqual([300, 6]);
    expect(second.gt_shape).toEqual([10, 6]);
    expect((second.config as { seed: number }).seed).toBe(2);
    expect(second.acts_sha256).not.toBe(first.acts_sha256);
    expect(fs.readdirSync(tmp).filter((n) => n.startsWith('.s-rerun.'))).toEqual([]);
  });

  it('SIGKILL at 5 points while a re-run writes: always the old complete folder or the new one; the next run cleans up', async () => {
    const big = { n: 60_000, d: 64, features: 96 };
    const dir = at('s-kill');
    synthHere('s-kill', { ...big, seed: 100 });
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const seen = new Set<string>();
    let midWrite = 0;
    for (const [i, delay] of [0, 30, 150, 500, 1500].entries()) {
      const before = (expectConsistentSynth(dir).config as { seed: number }).seed;
      const args = [
        'synth',
        '--samples',
        String(big.n),
        '--d',
        '64',
        '--features',
        '96',
        '--k',
        '3',
        '--seed',
        String(101 + i),
        '--out',
        's-kill',
      ];
      const child: ChildProcess = spawn(process.execPath, husaiArgs(args), { cwd: tmp, env, stdio: 'ignore' });
      let done = false;
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve(void (done = true))));
      // Kill `delay` ms after the temp folder appears, so the kill lands in the write or the swap.
      const started = Date.now();
      const mine = `.s-kill.tmp-${child.pid}-`;
      while (!done && Date.now() - started < 20_000 && !fs.readdirSync(tmp).some((n) => n.startsWith(mine)))
        await sleep(3);
      await sleep(delay);
      if (!done) midWrite++;
      child.kill('SIGKILL');
      await exited;
      // A kill between the swap's two renames leaves the old folder complete beside it: put it back.
      if (!fs.existsSync(dir)) expect(restoreInterruptedSwap(dir, isSynthFolder)).toBe(true);
      const after = (expectConsistentSynth(dir).config as { seed: number }).seed;
      expect([before, 101 + i]).toContain(after);
      seen.add(after === before ? 'old' : 'new');
    }
    expect(midWrite).toBeGreaterThan(0); // the trials did interrupt writes, not just startup
    synthHere('s-kill', { seed: 200 });
    expect((expectConsistentSynth(dir).config as { seed: number }).seed).toBe(200);
    expect(fs.readdirSync(tmp).filter((n) => n.startsWith('.s-kill.'))).toEqual([]);
    expect(seen.size).toBeGreaterThan(0);
  }, 60_000);
});

describe("husai train --data SYNTH_DIR: the folder's files must belong together", () => {
  it('gt.npy of another run (other shape): exit non-zero naming gt.npy and meta.json; openDataset throws DataError', async () => {
    synthHere('t-a', { seed: 1 });
    synthHere('t-b', { features: 20 });
    fs.copyFileSync(at('t-b', 'gt.npy'), at('t-a', 'gt.npy'));
    const r = await husai(
      'train',
      '--data',
      't-a',
      '--arch',
      'topk',
      '--width',
      '16',
      '--k',
      '2',
      '--steps',
      '5',
      '--out',
      't-sae',
    );
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('gt.npy');
    expect(r.err).toContain('meta.json');
    expect(fs.existsSync(at('t-sae'))).toBe(false);
    expect(() => openDataset(at('t-a'))).toThrow(DataError);
  });

  it('acts.npy of another run with the same shape: refused by its sha256', async () => {
    for (const [name, seed] of [
      ['t-c', 1],
      ['t-d', 2],
    ] as const) {
      const data = generateSynthetic('exact-k', { n: 256, d: 8, features: 12, k: 2, seed });
      writeSynthFolder(at(name), data.acts, data.gt, data.config);
    }
    fs.copyFileSync(at('t-d', 'acts.npy'), at('t-c', 'acts.npy'));
    expect(() => openDataset(at('t-c'))).toThrow(/acts\.npy: sha256/);
    expect(() => openDataset(at('t-d'))).not.toThrow();
  });
});

describe('husai train --out DIR', () => {
  it("a user's SAELens checkpoint (cfg.json without husai metadata) in DIR: refused before training, untouched", async () => {
    synthHere('tr-data');
    const cfg = put('tr-user/cfg.json', '{"architecture": "standard", "d_in": 8, "d_sae": 16}\n');
    const w = put('tr-user/sae_weights.safetensors', 'their weights');
    const r = await husai(
      'train',
      '--data',
      'tr-data',
      '--arch',
      'topk',
      '--width',
      '16',
      '--k',
      '2',
      '--steps',
      '5',
      '--out',
      'tr-user',
    );
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('cfg.json');
    expect(r.err).not.toMatch(/trained/);
    expect(fs.readFileSync(cfg, 'utf8')).toBe('{"architecture": "standard", "d_in": 8, "d_sae": 16}\n');
    expect(fs.readFileSync(w, 'utf8')).toBe('their weights');
  });

  it("husai's own SAE directory is replaced; --seeds writes DIR/seed-S beside a user's file in DIR", async () => {
    const args = ['train', '--data', 'tr-data', '--arch', 'topk', '--width', '16', '--k', '2', '--steps', '5'];
    expect((await husai(...args, '--out', 'tr-own')).code).toBe(0);
    expect((await husai(...args, '--seed', '3', '--out', 'tr-own')).code).toBe(0);
    const readme = put('tr-many/README', 'mine');
    expect((await husai(...args, '--seeds', '0,1', '--out', 'tr-many')).code).toBe(0);
    expect(fs.readdirSync(at('tr-many')).sort()).toEqual(['README', 'seed-0', 'seed-1']);
    expect(fs.readFileSync(readme, 'utf8')).toBe('mine');
  });
});

describe('husai modarith train --out DIR', () => {
  const train = (out: string) =>
    husai('modarith', 'train', '--p', '7', '--steps', '3', '--log-every', '1', '--out', out);

  it("DIR with a user's metrics.json and history.json: exit non-zero naming them, both byte-identical, no model written", async () => {
    const m = put('m-user/metrics.json', '{"mine": 1}\n');
    const h = put('m-user/history.json', '[1, 2, 3]\n');
    const r = await train('m-user');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('metrics.json');
    expect(r.err).toContain(at('m-user'));
    expect(fs.readFileSync(m, 'utf8')).toBe('{"mine": 1}\n');
    expect(fs.readFileSync(h, 'utf8')).toBe('[1, 2, 3]\n');
    expect(fs.readdirSync(at('m-user')).sort()).toEqual(['history.json', 'metrics.json']);
  });

  it("husai's own model folder is trained over as before; a user's file added to it is refused", async () => {
    expect((await train('m-own')).code).toBe(0);
    expect((await train('m-own')).code).toBe(0);
    const notes = put('m-own/notes.md', 'mine');
    expect((await train('m-own')).code).not.toBe(0);
    expect(fs.readFileSync(notes, 'utf8')).toBe('mine');
  });
});

describe('report writers: writeCardsReport, writeUniversalityReport, writeReport', () => {
  it("writeCardsReport(DIR) / writeUniversalityReport(DIR) with a user's file of the same name: ForeignOutputError, nothing written", async () => {
    const html = put('cards/cards.html', '<!doctype html><title>my cards</title>');
    expect(() => writeCardsReport(at('cards'), {} as FeatureCards)).toThrow(ForeignOutputError);
    expect(fs.readdirSync(at('cards'))).toEqual(['cards.html']);
    expect(fs.readFileSync(html, 'utf8')).toBe('<!doctype html><title>my cards</title>');
    put('uni/universality.json', '{"format": "mine"}');
    await expect(writeUniversalityReport(at('uni'), {} as UniversalityMatrix)).rejects.toThrow(
      /universality\.json, not written by/,
    );
    expect(fs.readdirSync(at('uni'))).toEqual(['universality.json']);
  });

  it("writeReport(studyDir): a user's report.html or figure refused before any write; husai's own replaced on a rerun", async () => {
    const study = at('study');
    fs.mkdirSync(study);
    fs.copyFileSync(
      path.join(repo, 'test', 'fixtures', 'study-v0.1.0', 'study', 'results.json'),
      path.join(study, 'results.json'),
    );
    const mine = put('study/report.html', '<!doctype html><html><head><title>my report</title>');
    await expect(writeReport(study)).rejects.toThrow(/report\.html, not written by `husai report`/);
    expect(fs.readFileSync(mine, 'utf8')).toBe('<!doctype html><html><head><title>my report</title>');
    expect(fs.existsSync(path.join(study, 'figures'))).toBe(false);
    fs.rmSync(mine);
    await writeReport(study);
    const figs = fs.readdirSync(path.join(study, 'figures'));
    expect(figs.length).toBeGreaterThan(0);
    await writeReport(study); // its own files: replaced
    const png = figs.find((f) => f.endsWith('.png'))!;
    fs.writeFileSync(path.join(study, 'figures', png), 'a user png');
    await expect(writeReport(study)).rejects.toThrow(png);
    expect(fs.readFileSync(path.join(study, 'figures', png), 'utf8')).toBe('a user png');
  }, 60_000);
});
