#!/usr/bin/env node
// Finds OpenBLAS for binding.gyp: `node native/blas-config.mjs cflags|libs|defines|describe`.
//
// Preference order (first hit wins):
//   1. Debian/Ubuntu multiarch OpenMP build   /usr/include/<triplet>/openblas-openmp  (libopenblas-openmp-dev)
//   2. Debian/Ubuntu multiarch pthreads build /usr/include/<triplet>/openblas-pthread (libopenblas-pthread-dev)
//   3. Fedora/RHEL layout                     /usr/include/openblas + libopenblaso (OpenMP) or libopenblasp
//   4. Generic                                /usr/include/openblas, /usr/local/include, /opt/OpenBLAS/include
// The library is linked by directory (-L DIR -Wl,-rpath,DIR) so that the variant found here is the
// one loaded at run time, whatever update-alternatives currently points libopenblas.so.0 at.
// The OpenMP variant matters: the addon's own kernels use OpenMP (libgomp), and an OpenMP OpenBLAS
// shares that one thread pool instead of starting a second one that fights it for the cores.
//
// HUSAI_NO_BLAS=1 reports nothing (the addon then compiles its portable built-in GEMM); used to
// test the fallback build. Prints nothing for every mode when no OpenBLAS is found.
import fs from 'node:fs';
import path from 'node:path';

const exists = (p) => {
  try {
    fs.accessSync(p);
    return true;
  } catch {
    return false;
  }
};
const subdirs = (dir) => {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() || e.isSymbolicLink())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
};

/** @returns {{ include: string, libDir: string, lib: string, threading: 'openmp' | 'pthreads' | 'none' | 'unknown' } | null} */
function detect() {
  if (process.env.HUSAI_NO_BLAS && process.env.HUSAI_NO_BLAS !== '0') return null;

  // 1–2: Debian multiarch, OpenMP first.
  for (const [variant, threading] of [
    ['openblas-openmp', 'openmp'],
    ['openblas-pthread', 'pthreads'],
    ['openblas-serial', 'none'],
  ]) {
    for (const triplet of subdirs('/usr/include')) {
      const include = path.join('/usr/include', triplet, variant);
      if (!exists(path.join(include, 'cblas.h'))) continue;
      for (const libRoot of ['/usr/lib', '/usr/lib64', '/lib']) {
        const libDir = path.join(libRoot, triplet, variant);
        if (exists(path.join(libDir, 'libopenblas.so'))) return { include, libDir, lib: 'openblas', threading };
      }
    }
  }

  // 3–4: single include dir, library next to the system libraries.
  const includes = ['/usr/include/openblas', '/usr/local/include/openblas', '/usr/local/include', '/opt/OpenBLAS/include', '/usr/include'];
  const libDirs = ['/usr/lib64', '/usr/lib', '/usr/local/lib', '/usr/local/lib64', '/opt/OpenBLAS/lib'];
  for (const triplet of subdirs('/usr/lib')) {
    if (triplet.includes('-linux-')) libDirs.push(path.join('/usr/lib', triplet));
  }
  for (const include of includes) {
    if (!exists(path.join(include, 'cblas.h')) || !exists(path.join(include, 'openblas_config.h'))) continue;
    for (const [lib, threading] of [
      ['openblaso', 'openmp'],
      ['openblasp', 'pthreads'],
      ['openblas', 'unknown'],
    ]) {
      for (const libDir of libDirs) {
        if (exists(path.join(libDir, `lib${lib}.so`)) || exists(path.join(libDir, `lib${lib}.dylib`))) {
          return { include, libDir, lib, threading };
        }
      }
    }
  }
  return null;
}

const found = detect();
const mode = process.argv[2] ?? 'describe';
const out = [];
switch (mode) {
  case 'cflags':
    if (found) out.push(`-I${found.include}`);
    break;
  case 'libs':
    if (found) out.push(`-L${found.libDir}`, `-Wl,-rpath,${found.libDir}`, `-l${found.lib}`);
    break;
  case 'defines':
    // Single quotes: gyp splits this output with shlex, and the define must stay a C string literal.
    if (found) out.push('HUSAI_HAVE_OPENBLAS=1', `'HUSAI_BLAS_THREADING="${found.threading === 'unknown' ? 'pthreads' : found.threading}"'`);
    break;
  case 'describe':
    out.push(
      found
        ? `OpenBLAS (${found.threading}): include ${found.include}, lib ${path.join(found.libDir, `lib${found.lib}.so`)}`
        : 'OpenBLAS not found: the addon will use its built-in GEMM (apt-get install libopenblas-openmp-dev for the fast path)',
    );
    break;
  default:
    process.stderr.write(`blas-config.mjs: unknown mode "${mode}" (expected cflags, libs, defines or describe)\n`);
    process.exit(2);
}
process.stdout.write(out.join(' ') + '\n');
