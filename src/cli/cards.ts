/**
 * `husai cards`: feature cards (study/cards.ts) — each chosen latent's top-activating rows, shown
 * as image patches (vision extractions), token contexts (text extractions) or (a, b) inputs
 * (modular arithmetic) — written to DIR/cards.html and DIR/cards.json, one summary line per latent.
 *   husai cards --sae DIR --acts PATH [--latents 1,2,3 | --top N] [--examples N] [--limit N] [--out DIR] [--json]
 * Progress and warnings go to stderr; --json prints one summary object instead of the lines.
 */
import type { Command } from 'commander';
import { HusaiError } from '../core/errors.js';
import { checkCardsTarget, writeCardsReport } from '../report/cards.js';
import { type CardExample, type FeatureCards, featureCards } from '../inspect/cards.js';
import { limitHelp, parseIndexListArg, parseIntArg, parsePositiveIntArg } from './args.js';
import { printJson } from './json.js';
import { ProgressLine } from './progress.js';

interface CardsFlags {
  sae: string;
  acts: string;
  latents?: number[];
  top?: number;
  examples?: number;
  limit?: number;
  context?: number;
  patchCells?: number;
  out: string;
  json?: boolean;
}

export function registerCards(program: Command): void {
  program
    .command('cards')
    .description(
      'feature cards: the top-activating examples of SAE latents (image patches, token contexts, (a, b) pairs) as ' +
        'HTML + JSON',
    )
    .requiredOption('--sae <dir>', 'SAE directory (SAELens or sparsify layout)')
    .requiredOption(
      '--acts <path>',
      'activations the SAE encodes: a folder from `husai extract` (row metadata, images, tokens), or a .npy / ' +
        '.safetensors file',
    )
    .option('--latents <list>', 'comma-separated latents to card', parseIndexListArg)
    .option('--top <n>', 'card the n most frequently firing live latents (default 16)', parsePositiveIntArg)
    .option('--examples <n>', 'top rows per latent (default 12)', parsePositiveIntArg)
    .option('--limit <n>', limitHelp(), parsePositiveIntArg)
    .option('--context <n>', 'text: tokens on each side of the active one (default 8)', parseIntArg)
    .option('--patch-cells <n>', "vision: feature-map cells shown around the token's cell (default 1)", parseIntArg)
    .option('--out <dir>', 'output folder for cards.html and cards.json', 'cards')
    .option(
      '--json',
      'print one JSON object: files written, selection, and per latent its firing rate and top activation',
    )
    .action((flags: CardsFlags) => {
      if (flags.latents !== undefined && flags.top !== undefined)
        throw new HusaiError('give --latents or --top, not both');
      checkCardsTarget(flags.out); // refuse a user's cards.json / cards.html before the scan
      const bar = new ProgressLine('cards');
      const fc = featureCards(flags.sae, flags.acts, {
        latents: flags.latents,
        topLatents: flags.top,
        examples: flags.examples,
        maxRows: flags.limit,
        context: flags.context,
        patchCells: flags.patchCells,
        onProgress: (done, total) => bar.update(done, total, `${done} rows`),
      });
      bar.done();
      const files = writeCardsReport(flags.out, fc);
      for (const w of fc.warnings) console.error(`warning: ${w}`);
      if (flags.json) {
        printJson({
          ...files,
          kind: fc.kind,
          selection: fc.selection,
          rowsScanned: fc.acts.rowsScanned,
          live: fc.live,
          dSae: fc.sae.dSae,
          cards: fc.cards.map((c) => ({
            latent: c.latent,
            fires: c.fires,
            firingRate: c.firingRate,
            maxActivation: c.maxActivation,
          })),
          warnings: fc.warnings,
        });
        return;
      }
      console.log(
        `${fc.cards.length} cards: ${fc.selection}; ${fc.acts.rowsScanned} rows scanned, ${fc.live} of ` +
          `${fc.sae.dSae} latents live`,
      );
      for (const c of fc.cards) {
        const pct = `${(100 * c.firingRate).toFixed(2)}%`;
        const tops = c.examples
          .slice(0, 3)
          .map((e) => describe(fc, e))
          .join('; ');
        console.log(
          `latent ${String(c.latent).padStart(5)}  fires ${pct.padStart(7)} (${c.fires})  max ` +
            `${c.maxActivation.toPrecision(4)}  top: ${tops || '—'}`,
        );
      }
      console.log(`wrote ${files.html} and ${files.json}`);
    });
}

/** One example in a few words: "4.21 img 17 (3) y2 x4", "3.1 'the' (doc 2)", "2.5 a=3 b=9". */
function describe(fc: FeatureCards, e: CardExample): string {
  const act = e.activation.toPrecision(3);
  const f = e.fields;
  if (fc.kind === 'vision') {
    const label = f.label !== undefined ? ` (${e.image?.className ?? f.label})` : '';
    return `${act} img ${f.image}${label}${f.y !== undefined ? ` y${f.y} x${f.x}` : ''}`;
  }
  if (fc.kind === 'text' && e.context)
    return `${act} ${JSON.stringify(e.context.tokens[e.context.active])} (doc ${e.context.doc})`;
  if (fc.kind === 'modarith') return `${act} a=${f.a} b=${f.b}`;
  return `${act} row ${e.row}`;
}
