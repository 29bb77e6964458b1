// Where a malformed JSON text goes wrong (RFC 8259 grammar), so import can name the line: Node 20's
// JSON.parse messages often carry no position ("Unexpected token '}', "…" is not valid JSON"). Runs only
// after JSON.parse has failed, so it favours being short over being fast.

export interface JsonSyntaxError {
  line: number;
  column: number;
  message: string;
}

class Fail extends Error {
  constructor(readonly at: number, message: string) {
    super(message);
  }
}

const WS = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPE = /["\\/bfnrt]|u[0-9a-fA-F]{4}/y;

function scan(text: string): void {
  let i = 0;
  const ws = () => { while (i < text.length && WS.has(text[i])) i++; };
  const expect = (what: string): never => {
    throw new Fail(i, i >= text.length ? `unexpected end of input, expected ${what}` : `unexpected '${text[i]}', expected ${what}`);
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length) {
      const c = text[i];
      if (c === '"') { i++; return; }
      if (c === '\\') {
        ESCAPE.lastIndex = i + 1;
        if (!ESCAPE.test(text)) { i++; expect('a valid escape'); }
        i = ESCAPE.lastIndex;
        continue;
      }
      if (c < ' ') expect('no raw control character in a string');
      i++;
    }
    expect('a closing quote');
  };
  const value = (depth: number): void => {
    if (depth > 2_000) throw new Fail(i, 'nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (text[i] !== '"') expect('a property name in double quotes');
        string(); ws();
        if (text[i] !== ':') expect("':'");
        i++; value(depth + 1); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        expect("',' or '}'");
      }
    }
    if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value(depth + 1); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        expect("',' or ']'");
      }
    }
    if (c === '"') return string();
    for (const lit of ['true', 'false', 'null']) if (text.startsWith(lit, i)) { i += lit.length; return; }
    NUMBER.lastIndex = i;
    if (NUMBER.test(text)) { i = NUMBER.lastIndex; return; }
    expect('a value');
  };
  value(0);
  ws();
  if (i < text.length) expect('end of input');
}

/** Line (1-based) and column of the first syntax error in `text`, counting from `firstLine`. */
export function locateJsonError(text: string, firstLine = 1): JsonSyntaxError {
  let at = text.length;
  let message = 'malformed JSON';
  try {
    scan(text);
  } catch (e) {
    if (e instanceof Fail) { at = e.at; message = e.message; }
  }
  let line = firstLine;
  let lineStart = 0;
  for (let k = text.indexOf('\n'); k >= 0 && k < at; k = text.indexOf('\n', k + 1)) {
    line++;
    lineStart = k + 1;
  }
  return { line, column: at - lineStart + 1, message };
}
