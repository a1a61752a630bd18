/**
 * The HTML page shell shared by every page husai writes (the study report, feature cards,
 * universality): doctype, UTF-8 and viewport meta, the escaped title, one inline <style> (the base
 * body rule all pages share, then the page's own CSS) and the body sections in order. The generator
 * tag marks the page as husai's, so a rerun replaces it and never a user's file (formats/owned.ts). No script and
 * no external URL, so each page works offline on its own. The title is escaped here; body sections
 * are HTML already built by their renderers, which escape their own text (format.ts `esc`).
 */
import { HTML_GENERATOR } from '../formats/owned.js';
import { esc } from './format.js';

/** The body rule every page shares. */
export const BASE_CSS =
  `body{font-family:'DejaVu Sans',system-ui,sans-serif;margin:2rem ` +
  `auto;max-width:1200px;padding:0 1rem;color:#222;line-height:1.45}`;

interface PageParts {
  /** Plain text (escaped here). */
  title: string;
  /** The page's own CSS, after BASE_CSS (not escaped: written by husai, never from data). */
  css?: string;
  /** Body sections as HTML, in order (each trimmed; empty ones dropped). */
  sections: readonly string[];
}

/** A whole self-contained HTML page. */
export function htmlPage(p: PageParts): string {
  const body = p.sections
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${HTML_GENERATOR}
<title>${esc(p.title)}</title><style>
${BASE_CSS}${p.css ?? ''}</style></head>
<body>
${body}
</body></html>
`;
}
