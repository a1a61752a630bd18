import { describe, expect, it } from 'vitest';
import { getEngine } from '../../src/engine/index.js';
import { AdamState, clipGlobalNorm } from '../../src/nn/optim.js';
import { ScratchPool } from '../../src/nn/scratch.js';

describe('clipGlobalNorm', () => {
  it('clipGlobalNorm(e, grads, 1) rescales to global norm 1 and reports the norm before', () => {
    const g = { a: Float32Array.from([3, 0]), b: Float32Array.from([0, 4]) };
    const r = clipGlobalNorm(getEngine(), g, 1);
    expect(r.norm).toBeCloseTo(5, 6);
    expect(r.nonFinite).toBeNull();
    expect(Array.from(g.a)[0]).toBeCloseTo(0.6, 6);
    expect(Array.from(g.b)[1]).toBeCloseTo(0.8, 6);
  });

  it('clipGlobalNorm(e, grads, 1) leaves small gradients alone and names a non-finite tensor', () => {
    const g = { a: Float32Array.from([0.3]), b: Float32Array.from([0.4]) };
    expect(clipGlobalNorm(getEngine(), g, 1).norm).toBeCloseTo(0.5, 6);
    expect(g.a[0]).toBeCloseTo(0.3, 6);
    const bad = { a: Float32Array.from([1]), b: Float32Array.from([NaN]) };
    const r = clipGlobalNorm(getEngine(), bad, 1);
    expect(r.nonFinite).toBe('b');
    expect(Number.isNaN(r.norm)).toBe(true);
  });
});

describe('AdamState', () => {
  it('AdamState.step moves each parameter by ≈ lr against its gradient sign on step 1', () => {
    const p = { w: Float32Array.from([1, 1]) };
    const st = new AdamState(p);
    st.step(
      getEngine(),
      p,
      { w: Float32Array.from([0.5, -2]) },
      { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1, weightDecay: 0 },
    );
    expect(p.w[0]).toBeCloseTo(0.9, 5);
    expect(p.w[1]).toBeCloseTo(1.1, 5);
    st.resetRange('w', 0, 1);
    expect(st.m.w[0]).toBe(0);
    expect(st.m.w[1]).not.toBe(0);
  });
});

describe('ScratchPool', () => {
  it('ScratchPool.f32(key, n) returns exactly n elements sharing storage per key, growing when needed', () => {
    const pool = new ScratchPool();
    const a = pool.f32('x', 4);
    const b = pool.f32('x', 2);
    expect(a.length).toBe(4);
    expect(b.length).toBe(2);
    a[0] = 7;
    expect(b[0]).toBe(7);
    expect(pool.f32('x', 8).length).toBe(8);
    expect(pool.i32('x', 3).length).toBe(3);
    expect(pool.bytes()).toBeGreaterThanOrEqual(8 * 4 + 3 * 4);
  });
});
