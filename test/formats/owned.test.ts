/**
 * formats/owned.ts: the "is this folder or file ours?" rule every husai writer applies before it
 * writes into an existing path (issue 12), and the folder swap that makes `husai synth` atomic.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ForeignOutputError,
  checkOwnedFiles,
  checkOwnedFolder,
  husaiHtml,
  husaiPng,
  husaiSvg,
  jsonWith,
  markPng,
  markSvg,
  removeTempLeftovers,
  restoreInterruptedSwap,
  siblingPath,
  swapInFolder,
} from '../../src/formats/owned.js';
import { crc32, encodePng } from '../../src/formats/png.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'husai-owned-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const write = (rel: string, text: string): string => {
  const f = path.join(dir, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, text);
  return f;
};
const ours = (d: string): boolean => jsonWith('source', (v) => v === 'husai test')(path.join(d, 'meta.json'));
const FILES = new Set(['meta.json', 'a.bin']);

describe('checkOwnedFolder(dir, ours, allowed, what)', () => {
  it('missing → "missing", empty (or only temps of its files) → "empty", husai\'s own → "ours"', () => {
    const out = path.join(dir, 'out');
    expect(checkOwnedFolder(out, ours, FILES, 'test')).toBe('missing');
    fs.mkdirSync(out);
    write('out/a.bin.tmp-999999', 'x');
    expect(checkOwnedFolder(out, ours, FILES, 'test')).toBe('empty');
    write('out/meta.json', JSON.stringify({ source: 'husai test' }));
    write('out/a.bin', 'x');
    expect(checkOwnedFolder(out, ours, FILES, 'test')).toBe('ours');
  });

  it("a user's file, a foreign meta.json, a file in place of the folder: ForeignOutputError naming them", () => {
    write('user/notes.txt', 'mine');
    expect(() => checkOwnedFolder(path.join(dir, 'user'), ours, FILES, 'test')).toThrow(
      /user: holds notes\.txt, not written by test/,
    );
    write('other/meta.json', JSON.stringify({ source: 'someone else' }));
    expect(() => checkOwnedFolder(path.join(dir, 'other'), ours, FILES, 'test')).toThrow(ForeignOutputError);
    write('mixed/meta.json', JSON.stringify({ source: 'husai test' }));
    write('mixed/notes.tmp-5', 'a user file that looks like a temp');
    expect(() => checkOwnedFolder(path.join(dir, 'mixed'), ours, FILES, 'test')).toThrow(/holds notes\.tmp-5/);
    write('file', 'x');
    expect(() => checkOwnedFolder(path.join(dir, 'file'), ours, FILES, 'test')).toThrow(/not a folder/);
  });
});

describe('checkOwnedFiles(dir, {name: recogniser}, what)', () => {
  it("passes missing files and husai's own; refuses a foreign file of the same name, naming it and what to do", () => {
    const rec = { 'r.json': jsonWith('format', (v) => v === 'husai-x'), 'r.html': husaiHtml };
    checkOwnedFiles(path.join(dir, 'none'), rec, 'test');
    write('r.json', JSON.stringify({ format: 'husai-x' }));
    write('r.html', '<!doctype html>\n<html><head><meta name="generator" content="husai">\n<title>t</title>');
    checkOwnedFiles(dir, rec, 'test');
    write('r.html', '<!doctype html><html><head><title>my page</title>');
    try {
      checkOwnedFiles(dir, rec, 'test');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ForeignOutputError);
      expect((err as ForeignOutputError).foreign).toEqual(['r.html']);
      expect((err as ForeignOutputError).hint).toMatch(/another --out/);
    }
  });
});

describe('recognisers', () => {
  it('husaiHtml: generator tag or a title naming husai (pages from before the tag); not a user page', () => {
    expect(husaiHtml(write('a.html', '<!doctype html>\n<html><head><title>x — husai study report</title>'))).toBe(true);
    expect(husaiHtml(write('b.html', '<!doctype html>\n<html><head><title>mine</title>'))).toBe(false);
    expect(husaiHtml(write('c.html', 'not html at all'))).toBe(false);
  });

  it("husaiSvg / markSvg: the mark after the root tag; Vega's legacy root; a user SVG is foreign", () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"><rect/></svg>';
    const marked = markSvg(svg);
    expect(marked.startsWith('<svg xmlns=')).toBe(true);
    expect(husaiSvg(write('m.svg', marked))).toBe(true);
    expect(husaiSvg(write('u.svg', svg))).toBe(false);
    expect(husaiSvg(write('v.svg', '<svg class="marks" width="2"></svg>'))).toBe(true);
  });

  it('husaiPng / markPng: a valid PNG with a Software: husai tEXt chunk; an unmarked user PNG is foreign', () => {
    const png = encodePng(new Uint8Array(4 * 3 * 3).fill(200), 4, 3, 3);
    const marked = markPng(png, crc32);
    expect(husaiPng(write('m.png', ''))).toBe(false);
    fs.writeFileSync(path.join(dir, 'm.png'), marked);
    fs.writeFileSync(path.join(dir, 'u.png'), png);
    expect(husaiPng(path.join(dir, 'm.png'))).toBe(true);
    expect(husaiPng(path.join(dir, 'u.png'))).toBe(false);
    // Every chunk's CRC still checks and the image data is intact.
    let off = 8;
    const types: string[] = [];
    while (off < marked.length) {
      const len = marked.readUInt32BE(off);
      const type = marked.subarray(off + 4, off + 8);
      expect(marked.readUInt32BE(off + 8 + len)).toBe(crc32(marked.subarray(off + 4, off + 8 + len)));
      if (type.toString('latin1') === 'IDAT')
        expect(zlib.inflateSync(marked.subarray(off + 8, off + 8 + len)).length).toBe(3 * (1 + 4 * 3));
      types.push(type.toString('latin1'));
      off += 12 + len;
    }
    expect(types).toEqual(['IHDR', 'tEXt', 'IDAT', 'IEND']);
  });
});

describe('swapInFolder(tmp, target, state) / restoreInterruptedSwap / removeTempLeftovers', () => {
  it("replaces husai's folder whole, fills an empty one, and leaves no sibling behind", () => {
    const target = path.join(dir, 'out');
    write('out/meta.json', '{"v":1}');
    for (const state of ['ours', 'empty'] as const) {
      if (state === 'empty') {
        fs.rmSync(target, { recursive: true });
        fs.mkdirSync(target);
      }
      const tmp = siblingPath(target, 'tmp');
      fs.mkdirSync(tmp);
      fs.writeFileSync(path.join(tmp, 'meta.json'), `{"v":"${state}"}`);
      swapInFolder(tmp, target, state);
      expect(fs.readFileSync(path.join(target, 'meta.json'), 'utf8')).toBe(`{"v":"${state}"}`);
      expect(fs.readdirSync(dir)).toEqual(['out']);
    }
  });

  it("a kill between the two renames: the old folder at .NAME.old-PID-N is put back; dead temps are removed, a user's kept", () => {
    const target = path.join(dir, 'out');
    write('.out.old-999999-0/meta.json', '{"old":true}');
    write('.out.tmp-999999-1/meta.json', '{"new":"half"}');
    expect(restoreInterruptedSwap(target, () => true)).toBe(true);
    expect(fs.readFileSync(path.join(target, 'meta.json'), 'utf8')).toBe('{"old":true}');
    write('out/meta.json.tmp-999999', 'temp of a killed write');
    write('out/notes.tmp-999999', 'a user file');
    write('.out.notes', 'a user file');
    removeTempLeftovers(target, new Set(['meta.json']));
    expect(fs.readdirSync(dir).sort()).toEqual(['.out.notes', 'out']);
    expect(fs.readdirSync(target).sort()).toEqual(['meta.json', 'notes.tmp-999999']);
  });

  it('a temp of a process still running is not a leftover', () => {
    const target = path.join(dir, 'out');
    fs.mkdirSync(target);
    write(`.out.tmp-${process.ppid}-0/x`, 'in use');
    removeTempLeftovers(target, new Set());
    expect(fs.existsSync(path.join(dir, `.out.tmp-${process.ppid}-0`))).toBe(true);
  });
});
