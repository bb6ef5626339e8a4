/** How deeply a JSON body may nest: far beyond any real input, well within what stringify can walk. */
export const MAX_JSON_DEPTH = 512;

/**
 * Whether JSON text nests objects and arrays deeper than `max`, read without parsing it (brackets
 * inside strings do not count). A body nested thousands deep parses, but every later
 * `JSON.stringify` of it overflows the stack: it is refused at the edge instead (found by the
 * attack pass: such bodies answered 500 on records, task inputs and run starts).
 */
export function jsonNestsDeeperThan(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}
