/**
 * The built-in default study: studies/default.yaml in the husai package directory (beside src/ and
 * dist/), which `husai study` runs when no spec is given. Resolved from this module's location, so it
 * works from a checkout, an `npm ci`-built tree and an installed package that ships studies/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError } from '../core/errors.js';
import { packageDir } from './provenance.js';

const STUDIES_DIR = 'studies';

/** Path of a spec shipped with husai (default: the default study). */
export function builtinSpecPath(name = 'default'): string {
  const file = path.join(packageDir(), STUDIES_DIR, `${name}.yaml`);
  if (!fs.existsSync(file)) {
    throw new DataError(
      file,
      'built-in study spec',
      'missing',
      `studies/${name}.yaml in the husai package`,
      'reinstall husai, or pass a spec file: husai study SPEC.yaml',
    );
  }
  return file;
}
