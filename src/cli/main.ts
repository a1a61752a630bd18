/** The `husai` entry point (bin/husai.js loads the compiled dist/cli/main.js): runs the command tree of program.ts. */
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv);
