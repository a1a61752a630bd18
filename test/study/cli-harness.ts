/**
 * A stand-alone `husai study …` for tests and manual runs before src/cli/main.ts registers the
 * command: `npx vite-node test/study/cli-harness.ts study SPEC --out DIR`. Same exit codes as main.ts
 * (2 for a HusaiError). Not a vitest file. vite-node drops the script path from process.argv; it is
 * put back so that `--jobs` can re-run this same command as its workers (`node vite-node
 * cli-harness.ts study … --worker k/J`), as it re-runs bin/husai.js in an installed husai.
 */
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { HusaiError } from '../../src/core/errors.js';
import { registerStudy } from '../../src/cli/study.js';

const args = process.argv.slice(2);
process.argv = [process.argv[0], process.argv[1], fileURLToPath(import.meta.url), ...args];
const program = new Command().name('husai').exitOverride();
registerStudy(program);
try {
  await program.parseAsync(args, { from: 'user' });
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof HusaiError) {
    console.error(`husai: ${err.message}`);
    if (err.hint) console.error(`hint: ${err.hint}`);
    process.exitCode = 2;
  } else {
    throw err;
  }
}
