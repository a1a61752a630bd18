/**
 * One process at a time per study directory: DIR/lock holds the owner's pid, host and start time,
 * created with O_EXCL. A lock whose owner is gone (same host, pid no longer alive — e.g. after
 * kill -9) is stale and taken over; a live owner, or one on another host (a shared file system,
 * where liveness cannot be checked), is a ConfigError naming it. Worker processes that a study
 * spawns (study.ts) work inside their parent's lock and take none themselves. Re-entrant within one
 * process (merge inside a study holding the lock).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../core/errors.js';

export const LOCK_FILE = 'lock';

const held = new Map<string, number>();

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

/** Takes DIR/lock (creating DIR); returns the release function. */
export function acquireLock(dir: string): () => void {
  const file = path.join(path.resolve(dir), LOCK_FILE);
  const depth = held.get(file) ?? 0;
  if (depth > 0) {
    held.set(file, depth + 1);
    return () => release(file);
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, JSON.stringify({ pid: process.pid, host: os.hostname(), started: new Date().toISOString() } satisfies LockInfo));
      fs.closeSync(fd);
      held.set(file, 1);
      return () => release(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = readLock(file);
    if (owner && owner.host === os.hostname() && owner.pid !== process.pid && alive(owner.pid)) {
      throw new ConfigError(`${path.dirname(file)} is in use by husai process ${owner.pid} (started ${owner.started})`, 'wait for it to finish, or stop it; a killed process leaves a lock that the next start takes over');
    }
    if (owner && owner.host !== os.hostname()) {
      throw new ConfigError(`${path.dirname(file)} is locked by a husai process on host ${owner.host} (pid ${owner.pid}, started ${owner.started})`, `if that process is gone, delete ${file}`);
    }
    fs.rmSync(file, { force: true }); // stale: its owner is gone
  }
  throw new ConfigError(`could not take ${file}`, 'another process keeps taking it; retry');
}

function release(file: string): void {
  const depth = held.get(file) ?? 0;
  if (depth > 1) {
    held.set(file, depth - 1);
    return;
  }
  held.delete(file);
  const owner = readLock(file);
  if (owner?.pid === process.pid) fs.rmSync(file, { force: true });
}

function readLock(file: string): LockInfo | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
