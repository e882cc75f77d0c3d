// Text helpers of the dashboard: where a rule-set path such as `slots[2].variants[0].when` stands in the
// JSON the operator typed (so an error points at its line), where a JSON syntax error stands, and a line
// diff of two rule sets.

// lineStarts returns the offset at which each line of text starts.
function lineStarts(text) {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

// lineOf turns an offset into a 1-based line number by binary search over lineStarts.
function lineOf(starts, offset) {
  let lo = 0, hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid; else hi = mid - 1;
  }
  return lo + 1;
}

// locatePaths reads JSON text and returns a Map from every value's path, written as the server writes
// them (`a.b[2].c`, the root is ""), to the 1-based line where that value (or its key) starts. It returns
// null when the text is not JSON: JSON.parse says why.
export function locatePaths(text) {
  const starts = lineStarts(text);
  const paths = new Map();
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\r\n'.includes(text[i])) i++; };
  const fail = () => { throw new SyntaxError('not JSON at ' + i); };
  const str = () => {
    if (text[i] !== '"') fail();
    const from = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail();
    i++;
    return JSON.parse(text.slice(from, i));
  };
  const value = (path, at) => {
    ws();
    paths.set(path, lineOf(starts, at ?? i));
    const c = text[i];
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        const keyAt = i;
        const key = str();
        ws();
        if (text[i++] !== ':') fail();
        value(path === '' ? key : path + '.' + key, keyAt);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i++] !== '}') fail();
        return;
      }
    }
    if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (let n = 0; ; n++) {
        value(path + '[' + n + ']');
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i++] !== ']') fail();
        return;
      }
    }
    if (c === '"') { str(); return; }
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
    if (!m) fail();
    i += m[0].length;
  };
  try {
    value('');
    ws();
    if (i !== text.length) fail();
  } catch {
    return null;
  }
  return paths;
}

// lineOfPath returns the line of path in the located paths, or of its nearest ancestor that is there (a
// missing field's path names where it should have been).
export function lineOfPath(paths, path) {
  for (let p = path || ''; ; ) {
    if (paths.has(p)) return paths.get(p);
    if (p === '') return 1;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    p = cut <= 0 ? '' : p.slice(0, cut);
  }
}

// syntaxErrorLine finds the line of a JSON.parse error in text, from the message's "line L column C" or
// "position N" (engines word it differently).
export function syntaxErrorLine(text, message) {
  let m = /line (\d+)/.exec(message);
  if (m) return Number(m[1]);
  m = /position (\d+)/.exec(message);
  if (m) return lineOf(lineStarts(text), Number(m[1]));
  return 1;
}

// diffLines returns the line diff of a against b as [{op: ' ' | '-' | '+', text}], by the longest common
// subsequence. Rule sets are a few hundred lines; past maxCells the diff falls back to "all removed, all
// added" rather than freeze the page.
export function diffLines(a, b, maxCells = 4e6) {
  const x = a.split('\n'), y = b.split('\n');
  // Common head and tail are cut first: an edit usually touches a few lines in the middle.
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (tail < x.length - head && tail < y.length - head && x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail++;
  const xs = x.slice(head, x.length - tail), ys = y.slice(head, y.length - tail);
  const out = x.slice(0, head).map((t) => ({ op: ' ', text: t }));
  if (xs.length * ys.length > maxCells) {
    xs.forEach((t) => out.push({ op: '-', text: t }));
    ys.forEach((t) => out.push({ op: '+', text: t }));
  } else {
    const n = xs.length, m = ys.length;
    const L = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        L[i][j] = xs[i] === ys[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
      }
    }
    let i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && xs[i] === ys[j]) { out.push({ op: ' ', text: xs[i] }); i++; j++; }
      else if (i < n && (j === m || L[i + 1][j] >= L[i][j + 1])) out.push({ op: '-', text: xs[i++] });
      else out.push({ op: '+', text: ys[j++] });
    }
  }
  x.slice(x.length - tail).forEach((t) => out.push({ op: ' ', text: t }));
  return out;
}
