/**
 * JSON exactly as Python's `json.dumps(value)` writes it with its default arguments, for the
 * `python_json_dumps` signature format: TotoPay's Python sample signs
 * `json.dumps(request.json)`, so a merchant migrating with it unchanged verifies only an HMAC of
 * this text, not of the compact body it received.
 *
 * Python's defaults, and how they differ from JSON.stringify:
 * - separators `", "` and `": "`;
 * - `ensure_ascii=True`: every character outside printable ASCII (0x20–0x7e) is escaped as
 *   `\uXXXX` in lowercase hex, characters beyond the BMP as their UTF-16 surrogate pair, and DEL
 *   (0x7f) too; `"` and `\` as `\"` and `\\`; \b \f \n \r \t by their short forms;
 * - keys in the order the object holds them (a dict keeps the order `json.loads` read them in,
 *   which is the order JSON.stringify wrote the body in: the same object walked here);
 * - numbers as `json.loads` read them from the body JSON.stringify wrote: an integral one below
 *   1e21 was written positionally and is a Python int (`str`); any other is a float, written by
 *   `repr` with the same shortest round-trip digits as JavaScript but in exponent form below 1e-4
 *   (`1e-05`, where JavaScript writes 0.00001 down to 1e-7) and with two exponent digits
 *   (`1e-07`, `1e+21`).
 */
export function pythonJsonDumps(value: unknown): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'string') return pythonString(value);
  if (typeof value === 'number') return pythonNumber(value);
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
    return `{${entries.map(([key, item]) => `${pythonString(key)}: ${pythonJsonDumps(item)}`).join(', ')}}`;
  }
  throw new TypeError(`json.dumps cannot write a ${typeof value}`);
}

const shortEscapes: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function pythonString(text: string): string {
  let out = '"';
  // By UTF-16 code unit: a character beyond the BMP is already its surrogate pair here, which is
  // exactly how ensure_ascii writes it.
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    const code = text.charCodeAt(i);
    if (shortEscapes[char]) out += shortEscapes[char];
    else if (code >= 0x20 && code <= 0x7e) out += char;
    else out += `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return `${out}"`;
}

function pythonNumber(number: number): string {
  // Python writes these as NaN and Infinity, which no JSON parser (nor JSON.stringify's body) has.
  if (!Number.isFinite(number)) throw new TypeError(`json.dumps of a body cannot meet ${number}`);
  if (Number.isInteger(number) && Math.abs(number) < 1e21) return String(number);
  // A float: the shortest round-trip digits, as both languages choose them; only the layout differs.
  const [mantissa, exponentText] = number.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  return String(number);
}
