/**
 * What the CPU can do, for `husai info` and benchmark headers: the SIMD flags that decide which
 * BLAS kernels are worth having (avx2/fma → OpenBLAS "Haswell", avx512f → "SkylakeX").
 */
import fs from 'node:fs';
import os from 'node:os';

interface CpuInfo {
  model: string;
  cores: number;
  avx2: boolean;
  fma: boolean;
  avx512f: boolean;
}

export function cpuInfo(): CpuInfo {
  let flags = new Set<string>();
  try {
    const text = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const line = text.split('\n').find((l) => l.startsWith('flags'));
    if (line) flags = new Set(line.split(':')[1].trim().split(/\s+/));
  } catch {
    // Not Linux: flags stay unknown (false); info still prints the rest.
  }
  const cpus = os.cpus();
  return {
    model: cpus[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    avx2: flags.has('avx2'),
    fma: flags.has('fma'),
    avx512f: flags.has('avx512f'),
  };
}

/**
 * The best OpenBLAS x86 core family this CPU supports, and whether `core` (what OpenBLAS picked)
 * is below it. OPENBLAS_CORETYPE=Haswell on an AVX-512 machine halves sgemm throughput
 * (docs/ARCHITECTURE.md, "Pitfalls").
 */
export function blasCoreBelowCpu(core: string, cpu: CpuInfo): { best: string; below: boolean } {
  const best = cpu.avx512f ? 'SkylakeX' : cpu.avx2 && cpu.fma ? 'Haswell' : 'generic';
  const rank = (c: string): number => {
    const s = c.toLowerCase();
    if (/skylakex|cooperlake|sapphirerapids|zen4|zen5/.test(s)) return 2;
    if (/haswell|zen|skylake|broadwell|kabylake|cascadelake/.test(s)) return s.includes('cascadelake') ? 2 : 1;
    return 0;
  };
  if (!core) return { best, below: false };
  return { best, below: rank(core) < rank(best) };
}
