/**
 * The `husai` command tree and its exit codes. Each subcommand lives in its own file and registers
 * itself here; buildProgram() has no side effects, so tests can walk the tree
 * (test/cli/conventions.test.ts). runCli() is the one error boundary and the only place that turns
 * errors into exit codes (docs/ARCHITECTURE.md, "only cli/ exits"): 0 success, 2 usage error (a bad flag value:
 * commander's message naming the flag; a ConfigError), 1 any other fault — a message of one line
 * naming the file and what to do (faults.ts), a hint line when there is one, never a stack trace
 * unless HUSAI_DEBUG=1.
 * main.ts is the entry point that calls runCli.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { HUSAI_VERSION } from '../core/version.js';
import { threadsFromEnv } from '../engine/index.js';
import { registerBench } from './bench.js';
import { registerCards } from './cards.js';
import { registerCompare } from './compare.js';
import { registerExtract } from './extract.js';
import { describeFault } from './faults.js';
import { registerInfo } from './info.js';
import { registerModArith } from './modarith.js';
import { registerReport } from './report.js';
import { registerStudy } from './study.js';
import { registerSynth } from './synth.js';
import { registerTrain } from './train.js';
import { registerUniversality } from './universality.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('husai')
    .description(
      'hunting for stable AI features: train sparse autoencoders across seeds and measure which features you can trust',
    )
    .version(HUSAI_VERSION)
    .showHelpAfterError()
    .exitOverride();
  registerInfo(program);
  registerBench(program);
  registerCards(program);
  registerCompare(program);
  registerExtract(program);
  registerModArith(program);
  registerStudy(program);
  registerReport(program);
  registerSynth(program);
  registerTrain(program);
  registerUniversality(program);
  return program;
}

/** Runs `husai` on process-style argv (node, script, args…); returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    const threads = threadsFromEnv();
    if (threads.warning) console.error(`warning: ${threads.warning}`);
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    // A parser error thrown from an action (not from commander's option parsing, which has printed
    // its message already and throws a plain CommanderError) has not been shown yet.
    if (err instanceof InvalidArgumentError) {
      console.error(`husai: ${err.message}`);
      return 2;
    }
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const fault = describeFault(err);
    console.error(`husai: ${fault.message}`);
    if (fault.hint) console.error(`hint: ${fault.hint}`);
    if (process.env.HUSAI_DEBUG === '1' && err instanceof Error) console.error(err.stack);
    return fault.exitCode;
  }
}
