import { describe, expect, it } from 'vitest';
import { PyLiteralError, parsePyLiteral } from '../../src/formats/pyliteral.js';

describe('parsePyLiteral', () => {
  it("parsePyLiteral(numpy's header dict) gives a Map with tuple shape", () => {
    const v = parsePyLiteral("{'descr': '<f4', 'fortran_order': False, 'shape': (5, 3), }          \n");
    expect(v).toEqual(
      new Map<string, unknown>([
        ['descr', '<f4'],
        ['fortran_order', false],
        ['shape', [5, 3]],
      ]),
    );
  });

  it('parsePyLiteral handles (), (n,), (x) = x, lists, None, floats, negative and long ints, escapes, u/b prefixes', () => {
    expect(parsePyLiteral('()')).toEqual([]);
    expect(parsePyLiteral('(7,)')).toEqual([7]);
    expect(parsePyLiteral('(7)')).toBe(7);
    expect(parsePyLiteral("[('a', '<f4'), ('b', '<i8', (2,))]")).toEqual([
      ['a', '<f4'],
      ['b', '<i8', [2]],
    ]);
    expect(parsePyLiteral('None')).toBeNull();
    expect(parsePyLiteral('-1.5e3')).toBe(-1500);
    expect(parsePyLiteral('12L')).toBe(12);
    expect(parsePyLiteral(`'it\\'s\\n\\x41'`)).toBe("it's\nA");
    expect(parsePyLiteral(`u"x" `)).toBe('x');
    expect(parsePyLiteral(`b'y'`)).toBe('y');
  });

  it('parsePyLiteral(malformed) throws PyLiteralError with the position', () => {
    const cases: Array<[string, RegExp]> = [
      ["{'a': 1", /expected "," at character 7/],
      ["{'a' 1}", /expected ":" at character 5/],
      ["{'a': 1, 'a': 2}", /duplicate dict key "a" at character 9/],
      ["'abc", /unterminated string at character 0/],
      ['Truth', /unexpected "T" at character 0/],
      ['{1: 2} x', /unexpected "x" after the value at character 7/],
      ['', /unexpected end of text at character 0/],
      ["{('a',): 1}", /dict keys must be strings or numbers/],
    ];
    for (const [text, msg] of cases) {
      expect(() => parsePyLiteral(text), text).toThrow(PyLiteralError);
      expect(() => parsePyLiteral(text), text).toThrow(msg);
    }
  });
});
