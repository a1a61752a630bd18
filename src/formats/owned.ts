/**
 * "Is this folder or file ours?" — the one rule every husai writer follows before it writes into a
 * path that already exists (issue 12, "husai deletes or overwrites only files it wrote"):
 *   missing or empty            → write;
 *   husai's own, of this kind   → replace it (atomically where the writer can);
 *   anything else               → refuse with one line naming the path and the foreign entries, and
 *                                 what to do (another --out, or remove them). Nothing is touched.
 * husai's outputs are recognised by what each command already writes: a JSON file with a husai
 * `format`/`source` key (synth's meta.json, modarith's config.json, SAELens cfg.json with husai
 * metadata), an HTML page with husai's generator tag (or, for pages written before the tag, a title
 * naming husai), an SVG starting with husai's comment and a PNG carrying a `Software: husai` text
 * chunk. Recognisers read at most a few KiB (or a JSON file up to 64 MiB) and never throw: anything
 * unreadable is foreign.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HusaiError } from '../core/errors.js';

/** Decides whether `file` (which exists) is one husai wrote, of the kind the caller is about to write. */
type Recogniser = (file: string) => boolean;

/** An output path that exists but is not husai's: the message names it; cli/ turns it into exit 1. */
export class ForeignOutputError extends HusaiError {
  constructor(
    readonly target: string,
    readonly foreign: string[],
    what: string,
  ) {
    const shown =
      foreign.length > 5 ? `${foreign.slice(0, 5).join(', ')}, … (${foreign.length} in all)` : foreign.join(', ');
    super(
      `${target}: holds ${shown}, not written by ${what}; refusing to overwrite`,
      'choose another --out, or remove those files first (husai never deletes files it did not write)',
    );
  }
}

/** The SVG comment husai puts right after the opening `<svg …>` tag of every figure file. */
const SVG_MARKER = '<!-- written by husai -->';
/** The HTML meta tag husai puts in the head of every page. */
export const HTML_GENERATOR = '<meta name="generator" content="husai">';

function head(file: string, bytes: number): Buffer | null {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(bytes);
      const n = fs.readSync(fd, buf, 0, bytes, 0);
      return buf.subarray(0, n);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return null;
  }
}

const MAX_JSON = 64 << 20;

/** The parsed top-level object of a JSON file, or null (missing, too large, not an object, not JSON). */
export function readJsonObject(file: string): Record<string, unknown> | null {
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || st.size > MAX_JSON) return null;
    const v: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A JSON file whose top-level `key` passes `test` (e.g. `format === 'husai-modarith'`). */
export function jsonWith(key: string, test: (v: unknown) => boolean): Recogniser {
  return (file) => {
    const o = readJsonObject(file);
    return o !== null && test(o[key]);
  };
}

/** An HTML page husai wrote: its generator tag, or (pages from before the tag) a `<title>` naming husai. */
export const husaiHtml: Recogniser = (file) => {
  const text = head(file, 4096)?.toString('utf8');
  if (text === undefined || !/^<!doctype html>/i.test(text)) return false;
  return text.includes(HTML_GENERATOR) || /<title>[^<]*husai[^<]*<\/title>/.test(text);
};

/** An SVG figure husai wrote: its comment after the root tag, or (older figures) Vega's `class="marks"` root. */
export const husaiSvg: Recogniser = (file) => {
  const text = head(file, 2048)?.toString('utf8');
  if (text === undefined || !text.startsWith('<svg')) return false;
  return text.includes(SVG_MARKER) || legacySvg(text);
};

const legacySvg = (text: string): boolean => !text.includes(SVG_MARKER) && /^<svg [^>]*class="marks"/.test(text);

/** `svg` (text starting with its root tag) with {@link SVG_MARKER} right after the root tag. */
export function markSvg(svg: string): string {
  const end = svg.indexOf('>') + 1;
  return end > 0 ? `${svg.slice(0, end)}${SVG_MARKER}${svg.slice(end)}` : svg;
}

const PNG_TEXT = Buffer.from('Software\0husai', 'latin1');

/**
 * A PNG husai wrote: a `tEXt` chunk `Software: husai` right after IHDR (see {@link markPng}), or (a
 * figure from before the mark) an unmarked PNG beside an unmarked Vega SVG of the same name.
 */
export const husaiPng: Recogniser = (file) => {
  const b = head(file, 33 + 12 + PNG_TEXT.length);
  if (b !== null && b.length === 33 + 12 + PNG_TEXT.length && b.subarray(41, 41 + PNG_TEXT.length).equals(PNG_TEXT))
    return true;
  const svg = head(file.replace(/\.png$/, '.svg'), 2048)?.toString('utf8');
  return b !== null && b.subarray(0, 4).toString('latin1') === '\x89PNG' && svg !== undefined && legacySvg(svg);
};

/**
 * `png` with a `tEXt` chunk `Software: husai` inserted after IHDR (PNG spec §11.3.4.3), so
 * {@link husaiPng} recognises it. `crc32` is the PNG CRC (formats/png.ts).
 */
export function markPng(png: Uint8Array, crc32: (b: Uint8Array) => number): Buffer {
  const chunk = Buffer.alloc(12 + PNG_TEXT.length);
  chunk.writeUInt32BE(PNG_TEXT.length, 0);
  chunk.write('tEXt', 4, 'latin1');
  PNG_TEXT.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + PNG_TEXT.length)), 8 + PNG_TEXT.length);
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  return Buffer.concat([b.subarray(0, 33), chunk, b.subarray(33)]);
}

/** Whether `entry` is the temp file of an atomic write (formats/io.ts) of one of the `names` husai writes there. */
function isTempOf(entry: string, names: ReadonlySet<string>): boolean {
  const m = /^(.+)\.tmp-\d+$/.exec(entry);
  return m !== null && names.has(m[1]);
}

/**
 * Refuses (ForeignOutputError) unless every existing `name` in `dir` is recognised by its
 * recogniser; `dir` may not exist yet. Call it before any work, so a refusal costs nothing.
 */
export function checkOwnedFiles(dir: string, files: Record<string, Recogniser>, what: string): void {
  const foreign: string[] = [];
  for (const [name, ours] of Object.entries(files)) {
    const file = path.join(dir, name);
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    if (st === undefined) continue;
    if (!st.isFile() || !ours(file)) foreign.push(name);
  }
  if (foreign.length > 0) throw new ForeignOutputError(dir, foreign, what);
}

/** What {@link checkOwnedFolder} found: nothing there, an empty folder, or a folder husai wrote. */
type FolderState = 'missing' | 'empty' | 'ours';

/**
 * The state of output folder `dir`: missing, empty (husai's temp leftovers do not count), or
 * husai's own of this kind (`ours(dir)`, e.g. its meta.json says so) with nothing in it but
 * `allowed` entries and their temp leftovers (`NAME.tmp-PID`). Anything else — a file where the folder should be, a
 * folder of another kind, a husai folder with a user's file in it — is a ForeignOutputError.
 */
export function checkOwnedFolder(
  dir: string,
  ours: (dir: string) => boolean,
  allowed: ReadonlySet<string>,
  what: string,
): FolderState {
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (st === undefined) return 'missing';
  if (!st.isDirectory())
    throw new ForeignOutputError(dir, [`a ${st.isSymbolicLink() ? 'symbolic link' : 'file'}, not a folder`], what);
  const entries = fs.readdirSync(dir).filter((n) => !isTempOf(n, allowed));
  if (entries.length === 0) return 'empty';
  if (!ours(dir)) throw new ForeignOutputError(dir, entries.sort(), what);
  const extra = entries.filter((n) => !allowed.has(n)).sort();
  if (extra.length > 0) throw new ForeignOutputError(dir, extra, what);
  return 'ours';
}

/**
 * Removes husai's temp leftovers in `dir` (`NAME.tmp-PID` of the `names` it writes there) and its
 * `.NAME.tmp-*` / `.NAME.old-*` siblings, except those of a process still running (a concurrent
 * writer's temp is not a leftover).
 */
export function removeTempLeftovers(dir: string, names: ReadonlySet<string>): void {
  const parent = path.dirname(dir);
  const prefix = `.${path.basename(dir)}.`;
  for (const n of safeList(parent)) {
    if (n.startsWith(prefix) && /^(tmp|old)-\d+(-\d+)?$/.test(n.slice(prefix.length)) && !alive(n)) {
      fs.rmSync(path.join(parent, n), { recursive: true, force: true });
    }
  }
  for (const n of safeList(dir)) if (isTempOf(n, names) && !alive(n)) fs.rmSync(path.join(dir, n), { force: true });
}

/** Whether the process named in a temp name (`….tmp-PID[-N]`) still runs: its temp is in use, not left over. */
function alive(name: string): boolean {
  const pid = Number(/-(\d+)(-\d+)?$/.exec(name)?.[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

let swapCounter = 0;

/** A hidden sibling of `target` for a swap: `.NAME.KIND-PID-N`. */
export function siblingPath(target: string, kind: 'tmp' | 'old'): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${kind}-${process.pid}-${swapCounter++}`);
}

/**
 * Puts the complete folder `tmp` at `target` by renames: onto a missing or empty `target` in one
 * rename; over husai's own folder ('ours') by moving it to `.NAME.old-PID-N`, renaming `tmp` in and
 * deleting the old one. A kill leaves the old folder or the new one at `target` — or, between the
 * two renames, the old one complete at `.NAME.old-*`, which {@link restoreInterruptedSwap} puts back.
 */
export function swapInFolder(tmp: string, target: string, state: FolderState): void {
  if (state !== 'ours') {
    fs.renameSync(tmp, target); // rename(2) replaces an empty folder in place
    return;
  }
  const old = siblingPath(target, 'old');
  fs.renameSync(target, old);
  try {
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.renameSync(old, target);
    throw err;
  }
  fs.rmSync(old, { recursive: true, force: true });
}

/**
 * When `target` is missing but a swap of a killed process left its old folder at `.NAME.old-PID-N`
 * (and `complete(old)` holds), renames it back; returns whether it did.
 */
export function restoreInterruptedSwap(target: string, complete: (dir: string) => boolean): boolean {
  if (fs.lstatSync(target, { throwIfNoEntry: false }) !== undefined) return false;
  const prefix = `.${path.basename(target)}.old-`;
  const parent = path.dirname(target);
  for (const n of safeList(parent)) {
    const old = path.join(parent, n);
    if (n.startsWith(prefix) && /^\d+(-\d+)?$/.test(n.slice(prefix.length)) && !alive(n) && complete(old)) {
      fs.renameSync(old, target);
      return true;
    }
  }
  return false;
}
