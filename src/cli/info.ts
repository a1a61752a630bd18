/**
 * `husai info [--json]`: version, engine, BLAS (vendor, config, core), threads, Node, CPU flags.
 * Warnings (a BLAS core below the CPU's, an engine fallback) go to stderr and stay in the JSON.
 */
import type { Command } from 'commander';
import { blasCoreBelowCpu, cpuInfo } from '../core/cpu.js';
import { HUSAI_VERSION } from '../core/version.js';
import { engineInfo } from '../engine/index.js';
import { printJson } from './json.js';

function collectInfo(): Record<string, unknown> {
  const eng = engineInfo();
  const cpu = cpuInfo();
  const warnings: string[] = [];
  const { best, below } = blasCoreBelowCpu(eng.blasCore, cpu);
  if (below) {
    const forced = process.env.OPENBLAS_CORETYPE;
    warnings.push(
      `BLAS core ${eng.blasCore} is below what this CPU supports (${best})` +
        (forced
          ? `: OPENBLAS_CORETYPE=${forced} forces it; unset it for full GEMM speed (env -u OPENBLAS_CORETYPE husai …)`
          : ''),
    );
  }
  if (eng.fallbackReason) warnings.push(eng.fallbackReason);
  return {
    husai: HUSAI_VERSION,
    engine: eng.name,
    blas: eng.blas,
    blasConfig: eng.blasConfig,
    blasCore: eng.blasCore,
    blasThreading: eng.blasThreading,
    openblasCoretypeEnv: process.env.OPENBLAS_CORETYPE ?? null,
    threads: eng.threads,
    node: process.version,
    cpu: cpu.model,
    cores: cpu.cores,
    avx2: cpu.avx2,
    fma: cpu.fma,
    avx512f: cpu.avx512f,
    warnings,
  };
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('show the husai version, compute engine, BLAS library and core, threads and CPU features')
    .option('--json', 'print one JSON object')
    .action((opts: { json?: boolean }) => {
      const info = collectInfo();
      for (const w of info.warnings as string[]) console.error(`warning: ${w}`);
      if (opts.json) {
        printJson(info);
        return;
      }
      const rows: Array<[string, unknown]> = [
        ['husai', info.husai],
        ['engine', info.engine],
        ['blas', `${info.blas}${info.blasCore ? ` (core ${info.blasCore}, ${info.blasThreading})` : ''}`],
        ['blas config', info.blasConfig],
        ['threads', info.threads],
        ['node', info.node],
        [
          'cpu',
          `${info.cpu} (${info.cores} cores; avx2 ${yn(info.avx2)}, fma ${yn(info.fma)}, avx512f ${yn(info.avx512f)})`,
        ],
      ];
      for (const [k, v] of rows) console.log(`${k.padEnd(12)} ${String(v)}`);
    });
}

function yn(v: unknown): string {
  return v ? 'yes' : 'no';
}
