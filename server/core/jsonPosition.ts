/**
 * Where a JSON text first goes wrong, as line and column (1-based), with a short reason.
 * JSON.parse in Node 20 names a position only for some errors; this scanner (run only after a
 * parse failed) always does. It validates, it does not build values.
 */
export interface JsonErrorPosition {
  line: number;
  column: number;
  offset: number;
  reason: string;
}

export function locateJsonError(text: string): JsonErrorPosition | null {
  let i = 0;
  const fail = (reason: string): never => {
    throw Object.assign(new Error(reason), { offset: i });
  };
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(`unexpected ${describe(text[i])}`);
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length) {
      const ch = text[i];
      if (ch === '"') {
        i++;
        return;
      }
      if (ch === '\\') {
        const esc = text[i + 1];
        if (esc === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('bad \\u escape in a string');
          i += 6;
        } else if (esc !== undefined && '"\\/bfnrt'.includes(esc)) i += 2;
        else fail('bad escape in a string');
      } else if (ch < ' ') fail('control character in a string');
      else i++;
    }
    fail('unterminated string');
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail(`unexpected ${describe(text[i])}`);
    i += m![0].length;
  };
  const value = (depth: number): void => {
    if (depth > 10_000) fail('nested too deeply');
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a property name in double quotes, found ${describe(text[i])}`);
        string();
        ws();
        if (text[i] !== ':') fail(`expected ':' after a property name, found ${describe(text[i])}`);
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail(`expected ',' or '}', found ${describe(text[i])}`);
      }
    }
    if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail(`expected ',' or ']', found ${describe(text[i])}`);
      }
    }
    if (ch === '"') return string();
    if (ch === 't') return literal('true');
    if (ch === 'f') return literal('false');
    if (ch === 'n') return literal('null');
    return number();
  };
  try {
    value(0);
    ws();
    if (i < text.length) fail(`unexpected ${describe(text[i])} after the end of the JSON value`);
    return null;
  } catch (e) {
    const offset = (e as { offset?: number }).offset ?? i;
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    return { line, column: offset - before.lastIndexOf('\n'), offset, reason: (e as Error).message };
  }
}

function describe(ch: string | undefined): string {
  return ch === undefined ? 'the end of the file' : `'${ch}'`;
}
