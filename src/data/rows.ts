/**
 * Rows of a shard set (data/shards.ts) read by global row index: row r of the set is row
 * r − start(s) of the shard s that holds it, shards in the set's order. `read` copies a contiguous
 * range across shard boundaries; `gather` copies a list of indices (any order, repeats allowed),
 * merging runs of consecutive indices into one read. Shard readers open on first use and stay open
 * up to `maxOpen` (least recently used closed first), so a streaming pass holds few file handles.
 * The only reader of rows by index in husai: the file source (files.ts), feature cards and
 * universality (inspect/) all read through it. An index outside [0, rows) is a DataError naming it.
 */
import { ConfigError, DataError } from '../core/errors.js';
import type { RowReader, ShardSet } from './shards.js';

interface ShardRowsOptions {
  /** Shard readers kept open at once (default: unlimited). */
  maxOpen?: number;
}

/** A shard set read by global row index, in ranges (`read`) or by index list (`gather`). */
export class ShardRows {
  readonly rows: number;
  readonly d: number;
  /** starts[s] = the global index of shard s's first row; starts[shards] = rows. */
  readonly starts: readonly number[];
  private readonly maxOpen: number;
  private readonly open = new Map<number, RowReader>(); // insertion order = least recently used first

  constructor(
    readonly set: ShardSet,
    opts: ShardRowsOptions = {},
  ) {
    const maxOpen = opts.maxOpen ?? Infinity;
    if (!(maxOpen >= 1) || (Number.isFinite(maxOpen) && !Number.isInteger(maxOpen))) {
      throw new ConfigError(`maxOpen = ${maxOpen}: expected an integer ≥ 1 (shard readers)`);
    }
    this.maxOpen = maxOpen;
    this.rows = set.rows;
    this.d = set.d;
    const starts = [0];
    for (const s of set.shards) starts.push(starts[starts.length - 1] + s.rows);
    this.starts = starts;
  }

  /** The shard holding global row `row` (0 ≤ row < rows). */
  shardOf(row: number): number {
    this.check(row);
    let lo = 0;
    for (let hi = this.set.shards.length - 1; lo < hi;) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Rows [start, start + count) into out[0 .. count·d). */
  read(start: number, count: number, out: Float32Array): void {
    if (count <= 0) return;
    this.check(start);
    this.check(start + count - 1);
    if (out.length < count * this.d) {
      throw new DataError(
        this.set.root,
        'output buffer',
        `${out.length} floats`,
        `at least ${count * this.d} (${count} rows × d = ${this.d})`,
      );
    }
    for (let at = start; at < start + count;) {
      const s = this.shardOf(at);
      const n = Math.min(start + count, this.starts[s + 1]) - at;
      this.reader(s).readRows(at - this.starts[s], n, out.subarray((at - start) * this.d, (at - start + n) * this.d));
      at += n;
    }
  }

  /** Rows idx[0], idx[1], … into consecutive rows of out; runs of consecutive indices are read at once. */
  gather(idx: ArrayLike<number>, out: Float32Array): void {
    const d = this.d;
    for (let t = 0; t < idx.length;) {
      let n = 1;
      while (t + n < idx.length && idx[t + n] === idx[t] + n) n++;
      this.read(idx[t], n, out.subarray(t * d, (t + n) * d));
      t += n;
    }
  }

  /** Closes every open shard reader (reads after this reopen them). */
  close(): void {
    for (const r of this.open.values()) r.close();
    this.open.clear();
  }

  private check(row: number): void {
    if (!Number.isInteger(row) || row < 0 || row >= this.rows) {
      throw new DataError(
        this.set.root,
        'row index',
        String(row),
        `an integer in [0, ${this.rows}) (the set's ${this.rows} rows)`,
      );
    }
  }

  private reader(s: number): RowReader {
    let r = this.open.get(s);
    if (r !== undefined) {
      this.open.delete(s);
    } else {
      if (this.open.size >= this.maxOpen) {
        // close the least recently used first, so never more than maxOpen are open
        const [oldest, old] = this.open.entries().next().value as [number, RowReader];
        old.close();
        this.open.delete(oldest);
      }
      r = this.set.shards[s].open();
    }
    this.open.set(s, r);
    return r;
  }
}
