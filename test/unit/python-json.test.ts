/**
 * pythonJsonDumps against the real thing: Python's own `json.dumps(json.loads(body))`, run as a
 * python3 process, for the bodies JSON.stringify writes. One process per batch of generated
 * values, so hundreds of cases cost one start-up.
 */
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { pythonJsonDumps } from '../../src/domain/python-json';
import { legacySignedText } from '../../src/domain/signatures';

/** What TotoPay's Python sample signs for each body: json.dumps(request.json), Flask's request.json being json.loads(body). */
function pythonDumps(bodies: string[]): string[] {
  const script = 'import json, sys\nfor body in json.load(sys.stdin):\n    print(json.dumps(json.dumps(json.loads(body))))';
  return execFileSync('python3', ['-c', script], { input: JSON.stringify(bodies), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as string);
}

/** Strings from every plane (emoji beyond the BMP as surrogate pairs), control characters, quotes and backslashes among them. */
const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({
    unit: fc.constantFrom('"', '\\', '/', '\t', '\n', '\r', '\b', '\f', '\u0001', '\u001f', '\u007f', '\u0080', '\u2028', 'é', '中', '💸', 'a'),
    maxLength: 12,
  }),
);
const number = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0.0001, 0.00001, 1e-7, 1e16, 1e20, 1e21, 1.5e300, 5e-324, -0, 123456.789, 0.1 + 0.2),
);
const value = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text,
    number,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(text, tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('pythonJsonDumps', () => {
  it("writes what Python's json.dumps writes for any body JSON.stringify makes", () => {
    const bodies = fc.sample(value, { numRuns: 400, seed: 20261207 }).map((item) => JSON.stringify(item));
    const expected = pythonDumps(bodies);
    const mismatches = bodies.filter((body, i) => pythonJsonDumps(JSON.parse(body)) !== expected[i]);
    expect(mismatches).toEqual([]);
  });

  it('keeps the order of keys as the body holds them, integer-like keys included', () => {
    const body = JSON.stringify({ b: 1, a: { '2': 'x', '1': 'y', z: {} }, list: [] });
    expect(pythonJsonDumps(JSON.parse(body))).toBe(pythonDumps([body])[0]);
    expect(pythonJsonDumps(JSON.parse(body))).toBe('{"b": 1, "a": {"1": "y", "2": "x", "z": {}}, "list": []}');
  });

  it('signs the compact body unchanged, and json.dumps text for python_json_dumps', () => {
    const body = JSON.stringify({ name: 'Zoë 💸', note: 'a "quote" \\ and\ttab' });
    expect(legacySignedText(body, 'compact')).toBe(body);
    expect(legacySignedText(body, 'python_json_dumps')).toBe('{"name": "Zo\\u00eb \\ud83d\\udcb8", "note": "a \\"quote\\" \\\\ and\\ttab"}');
  });
});
