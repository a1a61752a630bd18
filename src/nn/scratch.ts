/**
 * ScratchPool: per-batch work buffers shared by the SAEs that train in one pass over the data.
 * trainMany steps its SAEs one after another (forward, backward, update, then the next SAE), so the
 * [B, M]-sized buffers of one step are dead by the time the next SAE's step runs; sharing them
 * keeps memory at one SAE's scratch plus each SAE's own parameters and moments, instead of, at
 * B = m = 4096, ~200 MB of scratch per SAE. Buffers are allocated on first request and grown
 * (never shrunk) when a later request is larger; nothing is allocated once every size has been seen.
 *
 * Contract for users: a buffer's content is undefined when handed out (write before reading), and
 * two buffers that must coexist inside one step need different keys.
 */
export class ScratchPool {
  private readonly f32s = new Map<string, Float32Array>();
  private readonly i32s = new Map<string, Int32Array>();

  /** A float32 buffer of exactly n elements for `key` (a view of a pooled buffer of ≥ n). */
  f32(key: string, n: number): Float32Array {
    let buf = this.f32s.get(key);
    if (!buf || buf.length < n) {
      buf = new Float32Array(n);
      this.f32s.set(key, buf);
    }
    return buf.subarray(0, n);
  }

  /** An int32 buffer of exactly n elements for `key`. */
  i32(key: string, n: number): Int32Array {
    let buf = this.i32s.get(key);
    if (!buf || buf.length < n) {
      buf = new Int32Array(n);
      this.i32s.set(key, buf);
    }
    return buf.subarray(0, n);
  }

  /** Bytes held (for reports). */
  bytes(): number {
    let s = 0;
    for (const b of this.f32s.values()) s += b.byteLength;
    for (const b of this.i32s.values()) s += b.byteLength;
    return s;
  }
}
