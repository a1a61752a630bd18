/**
 * One process at a time per study directory: DIR/.husai-lock is a JSON file with the format key
 * `husai_lock` and the owner's pid, host, boot id, process start time (Linux: field 22 of
 * /proc/<pid>/stat, clock ticks since boot) and wall start time. husai deletes only a lock that is
 * its own: a file of that name without the format key is a ConfigError naming it, never removed.
 *
 * Acquisition is atomic: the lock is written complete to a private name and hard-linked to
 * .husai-lock (link fails when the name exists), so no reader sees a half-written lock.
 *
 * Staleness: an owner on this host is alive only when its pid exists AND (where /proc tells) its
 * process start time and the boot id are the recorded ones — a pid reused by another process after
 * a crash or a reboot does not hold the lock. An owner on another host (a shared file system) cannot
 * be checked and is refused with its name.
 *
 * Take-over of a stale lock is serialised by a second lock, .husai-lock.takeover (same format,
 * same link() creation): only its holder may remove a lock it does not own, and only after
 * re-reading it under the take-over lock and finding the same stale owner (its nonce). Then it links
 * its own lock; a fresh starter that links first simply wins. So two processes that meet one stale
 * lock never both run (the audit saw 2 of 32 with rm + open). A take-over lock whose holder died
 * in that microsecond window is itself stale and removed by the next starter.
 *
 * Worker processes that a study spawns (study.ts) work inside their parent's lock and take none
 * themselves. Re-entrant within one process (merge inside a study holding the lock).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../core/errors.js';

const LOCK_FILE = '.husai-lock';
const TAKEOVER = `${LOCK_FILE}.takeover`;
const FORMAT = 'husai-lock/1';

const held = new Map<string, number>();

interface LockInfo {
  husai_lock: string;
  pid: number;
  host: string;
  /** /proc/sys/kernel/random/boot_id, or null where there is none. */
  boot_id: string | null;
  /** Process start time in clock ticks since boot (/proc/<pid>/stat field 22), or null off Linux. */
  start_ticks: number | null;
  started: string;
  nonce: string;
}

/** Takes DIR/.husai-lock (creating DIR); returns the release function. */
export function acquireLock(dir: string): () => void {
  const file = path.join(path.resolve(dir), LOCK_FILE);
  const depth = held.get(file) ?? 0;
  if (depth > 0) {
    held.set(file, depth + 1);
    return () => release(file);
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const mine = ownInfo();
  for (let attempt = 0; attempt < 50; attempt++) {
    if (linkLock(file, mine)) {
      held.set(file, 1);
      return () => release(file);
    }
    const owner = readLock(file);
    if (owner === 'missing') continue;
    const state = ownerState(file, owner);
    if (state !== 'stale') throw state;
    takeOver(file, owner as LockInfo, mine);
  }
  throw new ConfigError(`could not take ${file}`, 'another process keeps taking it; retry');
}

function ownInfo(): LockInfo {
  return {
    husai_lock: FORMAT,
    pid: process.pid,
    host: os.hostname(),
    boot_id: bootId(),
    start_ticks: startTicks(process.pid),
    started: new Date().toISOString(),
    nonce: crypto.randomBytes(8).toString('hex'),
  };
}

/** Writes `info` to a private name and links it to `file`; false when `file` exists. */
function linkLock(file: string, info: LockInfo): boolean {
  const tmp = `${file}.${info.pid}-${info.nonce}`;
  fs.writeFileSync(tmp, JSON.stringify(info), { flag: 'wx' });
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** A ConfigError when the owner holds the lock (alive, or not checkable), else 'stale'. */
function ownerState(file: string, owner: LockInfo | 'foreign'): ConfigError | 'stale' {
  if (owner === 'foreign') {
    return new ConfigError(
      `${file} is not a husai lock (no "husai_lock" format key); husai does not delete files it did not write`,
      `move it away if it is yours, or choose another --out`,
    );
  }
  if (owner.pid === process.pid && owner.host === os.hostname())
    return new ConfigError(`${file} is already held by this process`);
  if (owner.host !== os.hostname()) {
    return new ConfigError(
      `${path.dirname(file)} is locked by a husai process on host ${owner.host} (${describe(owner)})`,
      `if that process is gone, delete ${file}`,
    );
  }
  if (alive(owner)) {
    return new ConfigError(
      `${path.dirname(file)} is in use by husai process ${describe(owner)}`,
      'wait for it to finish, or stop it; a killed process leaves a lock that the next start takes over',
    );
  }
  return 'stale';
}

/** Replaces the stale lock `stale` by our own, under the take-over lock. */
function takeOver(file: string, stale: LockInfo, mine: LockInfo): void {
  const tk = path.join(path.dirname(file), TAKEOVER);
  if (!linkLock(tk, mine)) {
    const holder = readLock(tk);
    if (holder !== 'missing' && holder !== 'foreign' && holder.host === os.hostname() && !alive(holder))
      removeIfSame(tk, holder);
    sleep(5 + Math.floor(Math.random() * 20));
    return;
  }
  try {
    const again = readLock(file);
    if (again !== 'missing' && again !== 'foreign' && again.nonce === stale.nonce) removeIfSame(file, again);
  } finally {
    removeIfSame(tk, mine);
  }
}

/** Removes `file` when it still holds the lock with `info`'s nonce. */
function removeIfSame(file: string, info: LockInfo): void {
  const now = readLock(file);
  if (now !== 'missing' && now !== 'foreign' && now.nonce === info.nonce) fs.rmSync(file, { force: true });
}

function release(file: string): void {
  const depth = held.get(file) ?? 0;
  if (depth > 1) {
    held.set(file, depth - 1);
    return;
  }
  held.delete(file);
  const owner = readLock(file);
  if (owner !== 'missing' && owner !== 'foreign' && owner.pid === process.pid && owner.host === os.hostname())
    fs.rmSync(file, { force: true });
}

/** The lock's content; 'foreign' for a file that is not a husai lock, 'missing' when absent. */
function readLock(file: string): LockInfo | 'foreign' | 'missing' {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    return 'foreign';
  }
  try {
    const v = JSON.parse(text) as Partial<LockInfo> | null;
    if (
      v &&
      v.husai_lock === FORMAT &&
      Number.isInteger(v.pid) &&
      typeof v.host === 'string' &&
      typeof v.nonce === 'string'
    )
      return v as LockInfo;
  } catch {
    // not JSON: not ours
  }
  return 'foreign';
}

function describe(o: LockInfo): string {
  return `pid ${o.pid} on host ${o.host}, started ${o.started}`;
}

/** Alive: the pid exists and, where /proc says, it is the same process (start time, boot id). */
function alive(o: LockInfo): boolean {
  const boot = bootId();
  if (o.boot_id !== null && boot !== null && o.boot_id !== boot) return false;
  try {
    process.kill(o.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (o.start_ticks === null) return true;
  const ticks = startTicks(o.pid);
  // With /proc, a pid whose stat cannot be read is gone; without /proc only the pid can be checked.
  return ticks === null ? !fs.existsSync('/proc/self/stat') : ticks === o.start_ticks;
}

let bootCache: string | null | undefined;
function bootId(): string | null {
  if (bootCache === undefined) {
    try {
      bootCache = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      bootCache = null;
    }
  }
  return bootCache;
}

/** Field 22 (starttime) of /proc/<pid>/stat; fields counted after the ")" closing the command name. */
export function startTicks(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[22 - 3]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
