/**
 * How deeply a YAML text nests, measured before it is parsed: the YAML library recurses
 * once per level and, past a few thousand, runs out of stack or memory. The measure
 * counts block levels by indentation (and `- - -` entries) and flow levels by `[` and `{`
 * that open a collection; it may count a little more than the parser would (a block
 * scalar's indented lines), never much less.
 */

export interface TooDeep {
  /** Offset in the text where the limit was passed. */
  offset: number;
}

/** Where `text` first nests deeper than `max`, or undefined. */
export function nestingPast(text: string, max: number): TooDeep | undefined {
  const indents: number[] = [];
  let flow = 0;
  let block = 0;
  let quote = '';
  let prev = ''; // the last character that is not a space, on this line (or in this flow)
  let lineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) {
        if (quote === "'" && text.charAt(i + 1) === "'") i++;
        else quote = '';
      }
      continue;
    }
    if (c === '\n') {
      lineStart = flow === 0;
      if (flow === 0) prev = '';
      continue;
    }
    if (lineStart) {
      const end = lineIndentEnd(text, i);
      if (end < 0) {
        // A blank or comment-only line: no level.
        const nl = text.indexOf('\n', i);
        if (nl < 0) break;
        i = nl - 1;
        continue;
      }
      const indent = end - i;
      while (indents.length > 0 && indents[indents.length - 1]! >= indent) indents.pop();
      indents.push(indent);
      let dashes = 0;
      let j = end;
      while ((text.charAt(j) === '-' || text.charAt(j) === '?') && /[ \t]/.test(text.charAt(j + 1))) {
        dashes++;
        j = skipBlanks(text, j + 1);
      }
      block = indents.length + dashes;
      if (block + flow > max) return { offset: end };
      lineStart = false;
      prev = dashes > 0 ? '-' : '';
      i = j - 1;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') continue;
    if (c === '#' && /[ \t\n]/.test(text.charAt(i - 1) || '\n')) {
      const nl = text.indexOf('\n', i);
      if (nl < 0) break;
      i = nl - 1;
      continue;
    }
    const opensValue =
      prev === '' || prev === ':' || prev === '-' || prev === '?' || (flow > 0 && '[{,'.includes(prev));
    if ((c === '"' || c === "'") && opensValue) quote = c;
    else if ((c === '[' || c === '{') && (opensValue || flow > 0)) {
      flow++;
      if (block + flow > max) return { offset: i };
    } else if ((c === ']' || c === '}') && flow > 0) flow--;
    prev = c;
  }
  return undefined;
}

/** Index of the first character of the line's content, or -1 for a blank or comment-only line. */
function lineIndentEnd(text: string, start: number): number {
  let i = start;
  while (text.charAt(i) === ' ') i++;
  const c = text.charAt(i);
  if (c === '' || c === '\n' || c === '#' || (c === '\r' && text.charAt(i + 1) === '\n')) return -1;
  return i;
}

function skipBlanks(text: string, start: number): number {
  let i = start;
  while (text.charAt(i) === ' ' || text.charAt(i) === '\t') i++;
  return i;
}
