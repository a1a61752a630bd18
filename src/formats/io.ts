/**
 * Raw byte I/O shared by the .npy and .safetensors readers and writers (docs/FORMATS.md). Writes are
 * atomic: the bytes go to `${path}.tmp-${pid}` first and are renamed over `path` only once
 * complete, so a crash or a full disk never leaves a half-written file that a later run would read
 * as data. Reads are positioned (`fs.readSync` at an offset), so a reader touches only the bytes it
 * needs and files larger than RAM stream. Tensor bytes are little-endian on disk and are viewed in
 * place, hence the little-endian host check.
 *
 * Every file a user names is opened for reading through `openRegular` (or `readRegularFile`): opened
 * non-blocking and checked with fstat to be a regular file, so a FIFO, a device or a directory is
 * refused at once with a message instead of blocking forever or failing deep inside a parser; errno
 * failures (missing, no permission, no space left while writing) become FileErrors naming the file.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { faultPoint } from '../core/faults.js';
import { DataError, FileError, fileKind, fsError } from '../core/errors.js';

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
  let fd: number | null;
  try {
    fd = fs.openSync(tmp, 'w');
  } catch (err) {
    throw fsError(err, path, 'writing');
  }
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
    throw fsError(err, path, 'writing');
  }
}

/**
 * Opens `path` for reading and returns the fd, refusing anything but a regular file (a FIFO, socket,
 * device or directory) before a byte is read: the open is non-blocking, so a FIFO without a writer
 * cannot hang it. Errno failures become FileErrors naming the file.
 */
export function openRegular(path: string): number {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    throw fsError(err, path, 'reading');
  }
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    throw fsError(err, path, 'reading');
  }
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw notRegular(path, st);
  }
  return fd;
}

/** The FileError for a path that exists but is not a regular file. */
function notRegular(path: string, st: fs.Stats): FileError {
  const kind = fileKind(st);
  const code = st.isDirectory() ? 'EISDIR' : st.isFIFO() ? 'FIFO' : 'NOTREG';
  return new FileError(path, code, `${path} is ${kind}, expected a regular file`);
}

/** Reads a whole regular file (see openRegular) as text or bytes. */
export function readRegularFile(path: string): Buffer;
export function readRegularFile(path: string, encoding: BufferEncoding): string;
export function readRegularFile(path: string, encoding?: BufferEncoding): Buffer | string {
  const fd = openRegular(path);
  try {
    const buf = fs.readFileSync(fd);
    return encoding === undefined ? buf : buf.toString(encoding);
  } catch (err) {
    throw fsError(err, path, 'reading');
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A Float32Array of `n` elements for data of `file` (`what`: e.g. "shape [n×d]"), or a DataError
 * naming the shape and the bytes it needs when the allocation fails ("Array buffer allocation
 * failed", "Invalid typed array length") — never a bare RangeError.
 */
export function allocFloat32(n: number, file: string, what: string): Float32Array {
  try {
    return new Float32Array(n);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    const gib = (n * 4) / 2 ** 30;
    throw new DataError(
      file,
      what,
      `${n} float32 values (${gib.toFixed(1)} GiB)`,
      'an array that fits in memory',
      'read it in row ranges, or use a machine with more memory',
    );
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

/**
 * fsync a directory so a rename inside it is durable; a no-op where the platform cannot (the rename is atomic
 * regardless).
 */
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
  const fd = openRegular(file);
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
