/**
 * bin/husai.js runs dist/cli/main.js: the CLI end-to-end tests compile src/ as `npm run build` does,
 * unless dist/ is already newer than every file under src/ (so this tests this tree, and builds once
 * per suite rather than once per file).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const repo = path.resolve(__dirname, '..', '..');

function newestMtime(dir: string): number {
  return Math.max(
    0,
    ...fs.readdirSync(dir, { withFileTypes: true }).map((e) => {
      const p = path.join(dir, e.name);
      return e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs;
    }),
  );
}

/** Compiles src/ into dist/ when dist/cli/main.js is missing or older than src/. */
export async function ensureDist(): Promise<void> {
  const main = path.join(repo, 'dist', 'cli', 'main.js');
  if (fs.existsSync(main) && fs.statSync(main).mtimeMs > newestMtime(path.join(repo, 'src'))) return;
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      { cwd: repo, encoding: 'utf8' },
      (err, stdout, stderr) =>
        err ? reject(new Error(`tsc -p tsconfig.build.json failed:\n${stdout}${stderr}`)) : resolve(),
    );
  });
}
