/** How deeply a JSON body may nest: far beyond any real input, well within what stringify can walk. */
export const MAX_JSON_DEPTH = 512;

/**
 * How many objects and arrays one JSON body may hold. Each costs the parser an allocation (about
 * 0.5–1 µs with its garbage collection): 9 MiB of `[[],[],…]` (3 million arrays, 9 KB gzipped)
 * took 2–3 s of the event loop to parse, before any route or credential was looked at (found by
 * an attack pass: 20 such requests, anonymous, stopped the server for about a minute). Reaching the
 * limit within 9 MiB takes fewer than 19 bytes per object or array on average; small scraped items
 * (the unit test's, 87 bytes with 4 of them) hold about 22, so 9 MiB of those is 414,000.
 */
export const MAX_JSON_CONTAINERS = 500_000;

/** What in a JSON body is beyond what Atrium takes (`token`: the number, for the number limits). */
export interface JsonBeyond {
  limit: 'depth' | 'containers' | 'number' | 'integer' | 'tiny';
  token?: string;
}

/**
 * A JSON number `JSON.parse` would read as another value: beyond a double's range (`number`: it
 * would be Infinity, stored as null), an integer a double cannot hold exactly (`integer`: a 64-bit
 * id beyond 2^53 would be rounded; what JavaScript writes is taken, as it reads back as written),
 * or a non-zero number too small for one (`tiny`: stored as 0). Decimal fractions, and numbers in
 * exponent notation, round as floating point does everywhere (0.1 is not exact either): taken.
 */
function numberBeyond(token: string, exponent: boolean): JsonBeyond | null {
  const value = Number(token);
  const shown = token.slice(0, 40);
  if (Math.abs(value) === Infinity) return { limit: 'number', token: shown };
  if (value === 0 && /[1-9]/.test(token.split(/[eE]/)[0])) return { limit: 'tiny', token: shown };
  // An integer in plain digits (`….0` included; exponent notation says floating point): inexact
  // unless it is the double's exact value, or the way JavaScript writes that double
  // (JSON.stringify(2 ** 64) is 18446744073709552000).
  const integer = exponent ? undefined : /^(-?\d+)(?:\.0*)?$/.exec(token)?.[1];
  if (integer !== undefined && BigInt(integer) !== BigInt(value) && String(value) !== integer)
    return { limit: 'integer', token: shown };
  return null;
}

/**
 * What in JSON text is beyond the limits, read without parsing it (brackets inside strings do not
 * count): `depth` when objects and arrays nest deeper than `maxDepth` (such a body parses, but
 * every later `JSON.stringify` of it overflows the stack), `containers` when it holds more than
 * `maxContainers` of them, a number limit for a number `JSON.parse` would read as another value
 * (`numberBeyond`: it would be changed without a word); otherwise null.
 */
export function jsonBeyondLimits(
  text: string,
  maxDepth = MAX_JSON_DEPTH,
  maxContainers = MAX_JSON_CONTAINERS,
): JsonBeyond | null {
  let depth = 0;
  let containers = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return { limit: 'depth' };
      if (++containers > maxContainers) return { limit: 'containers' };
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      // A number (outside strings only numbers hold '-' and digits).
      let end = i + 1;
      let exponent = false;
      for (; end < text.length; end++) {
        const d = text.charCodeAt(end);
        if (d === 0x65 || d === 0x45) exponent = true;
        else if (!((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x2b || d === 0x2d)) break;
      }
      // Only a number with an exponent, or more digits than a double holds exactly, can be read
      // as something else than it says.
      if (exponent || end - i > 15) {
        const beyondNumber = numberBeyond(text.slice(i, end), exponent);
        if (beyondNumber) return beyondNumber;
      }
      i = end - 1;
    }
  }
  return null;
}
