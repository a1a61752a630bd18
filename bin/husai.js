#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/cli/main.js, compiled from src/cli/main.ts by `npm ci` (prepare).
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    console.error('husai: dist/ is missing. Run `npm ci` (or `npm run build`) in the husai folder first.');
    process.exit(1);
  }
  throw err;
});
