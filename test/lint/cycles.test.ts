/**
 * scripts/check-cycles.mjs (run by `npm run lint`): it must name a planted cycle — through
 * multi-line, type-only, re-export and dynamic imports — ignore imports written in comments and
 * strings, pass an acyclic tree, and pass src/ as it stands.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = path.join(import.meta.dirname, '../../scripts/check-cycles.mjs');
const dirs: string[] = [];

/** Writes `files` (relative path → source) into a fresh folder and runs the checker on it. */
function check(files: Record<string, string>): { status: number | null; stderr: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'husai-cycles-'));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  const r = spawnSync(process.execPath, [SCRIPT, dir], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('node scripts/check-cycles.mjs DIR', () => {
  it('check-cycles(a → b → c → a through multi-line, type-only and re-export imports) fails naming the cycle', () => {
    const r = check({
      'x/a.ts': "import {\n  b,\n} from './b.js';\nexport const a = b;\n",
      'x/b.ts': "import type { C } from '../y/c.js';\nexport const b: C = 1;\n",
      'y/c.ts': "export { a } from '../x/a.js';\nexport type C = number;\n",
      'y/leaf.ts': 'export const leaf = 0;\n',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('import cycle: x/a.ts → x/b.ts → y/c.ts → x/a.ts');
    expect(r.stderr).toContain('1 import cycle(s)');
    expect(r.stderr).not.toContain('leaf.ts');
  });

  it('check-cycles(a dynamic import back, and a file importing itself) fails on both', () => {
    const r = check({
      'a.ts': "export async function f() { return import('./b.js'); }\n",
      'b.ts': "import { f } from './a.js';\nexport const g = f;\n",
      'self.ts': "import { s } from './self.js';\nexport const s = 1; void s;\n",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('import cycle: a.ts → b.ts → a.ts');
    expect(r.stderr).toContain('import cycle: self.ts → self.ts');
    expect(r.stderr).toContain('2 import cycle(s)');
  });

  it('check-cycles(a cycle larger than its shortest path) lists every tangled file', () => {
    const r = check({
      'a.ts': "import './b.js';\nimport './c.js';\n",
      'b.ts': "import './a.js';\n",
      'c.ts': "import './a.js';\n",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('import cycle: a.ts → b.ts → a.ts (3 files tangled: a.ts, b.ts, c.ts)');
  });

  it('check-cycles(imports only in comments and strings, a diamond, a package import) passes', () => {
    const r = check({
      'a.ts':
        "// import { b } from './b.js';\nimport fs from 'node:fs';\nimport { c } from './c.js';\nimport { d } from './d.js';\nexport const a = [c, d, fs];\n",
      'b.ts': "/* import { a } from './a.js'; */\nexport const s = \"import { a } from './a.js'\";\n",
      'c.ts': "import { e } from './e.js';\nexport const c = e;\n",
      'd.ts': "import { e } from './e.js';\nexport const d = e;\n",
      'e.ts': "import { s } from './b.js';\nexport const e = s;\n",
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('check-cycles(src) passes', () => {
    const r = spawnSync(process.execPath, [SCRIPT, path.join(import.meta.dirname, '../../src')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
