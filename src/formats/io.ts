/**
 * Raw byte I/O shared by the .npy and .safetensors readers and writers (FORMATS.md). Writes are
 * atomic: the bytes go to `${path}.tmp-${pid}` first and are renamed over `path` only once
 * complete, so a crash or a full disk never leaves a half-written file that a later run would read
 * as data. Reads are positioned (`fs.readSync` at an offset), so a reader touches only the bytes it
 * needs and files larger than RAM stream. Tensor bytes are little-endian on disk and are viewed in
 * place, hence the little-endian host check.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { faultPoint } from '../core/faults.js';

/** Throws unless the host is little-endian (every platform Node 20 supports is; the formats are LE). */
export function assertLittleEndian(): void {
  if (os.endianness() !== 'LE') {
    throw new Error('husai reads and writes raw little-endian tensors and needs a little-endian host');
  }
}

/** A Buffer view of a typed array's bytes (no copy). */
export function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Writes `parts` one after another to `path`, atomically (temp file + rename). */
export function writeFileAtomic(path: string, parts: ReadonlyArray<Uint8Array>): void {
  const tmp = `${path}.tmp-${process.pid}`;
  let fd: number | null = fs.openSync(tmp, 'w');
  try {
    for (const part of parts) {
      let off = 0;
      while (off < part.length) {
        off += fs.writeSync(fd, part, off, Math.min(part.length - off, 1 << 30));
      }
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    faultPoint('write', path);
    fs.renameSync(tmp, path);
  } catch (err) {
    if (fd !== null) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** Reads exactly `length` bytes at `position` into `into` (looping over short reads); false if EOF came first. */
export function readExact(fd: number, into: Uint8Array, position: number): boolean {
  let off = 0;
  while (off < into.length) {
    const n = fs.readSync(fd, into, off, Math.min(into.length - off, 1 << 30), position + off);
    if (n === 0) return false;
    off += n;
  }
  return true;
}

/** fsync a directory so a rename inside it is durable; a no-op where the platform cannot (the rename is atomic regardless). */
export function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Not every platform can fsync a directory.
  }
}

/** sha256 (hex) and size of a file, streamed in 16 MiB chunks (activation files may exceed RAM). */
export function sha256File(file: string): { sha256: string; bytes: number } {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(16 << 20);
  let bytes = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      bytes += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { sha256: h.digest('hex'), bytes };
}
