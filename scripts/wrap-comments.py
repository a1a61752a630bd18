#!/usr/bin/env python3
"""Rewraps comment lines longer than 120 columns (UTF-8 bytes) in TypeScript files (prettier leaves comments alone).

Handles `// …` lines, ` * …` JSDoc body lines and one-line `/** … */` docs; a rule line
(`// ── title ───…`) is shortened. Code and strings are left for a person. Usage: wrap-comments.py FILE…
"""
import re
import sys

WIDTH = 120


def width(s: str) -> int:
    """UTF-8 bytes: what `awk length` counts; never less than the characters prettier counts."""
    return len(s.encode('utf8'))


def wrap(prefix: str, text: str) -> list[str]:
    words = text.split(' ')
    lines, cur = [], ''
    for w in words:
        cand = w if cur == '' else cur + ' ' + w
        if width(prefix) + width(cand) > WIDTH and cur != '':
            lines.append(prefix + cur)
            cur = w
        else:
            cur = cand
    lines.append(prefix + cur)
    return lines


def fix(line: str) -> list[str]:
    if width(line) <= WIDTH:
        return [line]
    m = re.match(r'^(\s*// ─+ .*? )─+$', line)
    if m:
        return [m.group(1) + '─' * max(3, (WIDTH - width(m.group(1))) // 3)]
    m = re.match(r'^(\s*)// (.*)$', line)
    if m:
        return wrap(m.group(1) + '// ', m.group(2))
    m = re.match(r'^(\s*)\* (.*)$', line)
    if m:
        return wrap(m.group(1) + '* ', m.group(2))
    m = re.match(r'^(\s*)/\*\* (.*) \*/$', line)
    if m:
        ind = m.group(1)
        return [ind + '/**', *wrap(ind + ' * ', m.group(2)), ind + ' */']
    return [line]


for f in sys.argv[1:]:
    src = open(f, encoding='utf8').read().split('\n')
    out = [l for line in src for l in fix(line)]
    if out != src:
        open(f, 'w', encoding='utf8').write('\n'.join(out))
