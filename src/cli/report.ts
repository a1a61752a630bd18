/** `husai report DIR [--json]`: (re)writes DIR/report.html and DIR/figures/ from DIR/results.json. */
import type { Command } from 'commander';
import { writeReport } from '../report/index.js';
import { printJson } from './json.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description("write a study's self-contained HTML report and its figures (SVG + PNG) from DIR/results.json")
    .argument('<dir>', 'study directory')
    .option('--json', 'print one JSON object: the study directory and the report written')
    .action(async (dir: string, flags: { json?: boolean }) => {
      const report = await writeReport(dir);
      if (flags.json) printJson({ dir, report });
      else console.log(report);
    });
}
