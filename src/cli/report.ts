/** `husai report DIR`: (re)writes DIR/report.html and DIR/figures/ from DIR/results.json. */
import type { Command } from 'commander';
import { writeReport } from '../report/index.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write a study\'s self-contained HTML report and its figures (SVG + PNG) from DIR/results.json')
    .argument('<dir>', 'study directory')
    .action(async (dir: string) => {
      console.log(await writeReport(dir));
    });
}
