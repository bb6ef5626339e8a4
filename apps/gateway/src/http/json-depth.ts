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

/** What in a JSON body is beyond what Atrium takes (`token`: the number, for `number`). */
export interface JsonBeyond {
  limit: 'depth' | 'containers' | 'number';
  token?: string;
}

/**
 * What in JSON text is beyond the limits, read without parsing it (brackets inside strings do not
 * count): `depth` when objects and arrays nest deeper than `maxDepth` (such a body parses, but
 * every later `JSON.stringify` of it overflows the stack), `containers` when it holds more than
 * `maxContainers` of them, `number` for a number no double holds (`1e309`: `JSON.parse` reads it as
 * Infinity, which is stored as null — the value would be lost without a word); otherwise null.
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
      // A number (outside strings only numbers hold '-' and digits): only one with an exponent
      // or more digits than a double's range holds can overflow.
      let end = i + 1;
      let exponent = false;
      for (; end < text.length; end++) {
        const d = text.charCodeAt(end);
        if (d === 0x65 || d === 0x45) exponent = true;
        else if (!((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x2b || d === 0x2d)) break;
      }
      if (exponent || end - i > 300) {
        const token = text.slice(i, end);
        if (Math.abs(Number(token)) === Infinity) return { limit: 'number', token: token.slice(0, 40) };
      }
      i = end - 1;
    }
  }
  return null;
}
