// The operator dashboard. Everything it shows comes from /api/ calls made with the token the operator typed,
// kept in sessionStorage (gone when the tab closes): the page alone holds no data, and a wrong token gets
// nothing. It refreshes itself every few seconds while counts arrive.
import { locatePaths, lineOfPath, syntaxErrorLine, diffLines } from './text.js';
import { renderReport, chartsAvailable, el } from './report.js';

const TOKEN_KEY = 'tailor-operator-token';
const REFRESH_MS = 3000;
const VALIDATE_DELAY_MS = 250;
const $ = (id) => document.getElementById(id);

const state = { live: null, liveText: '', version: 0, timer: 0, validateSeq: 0, valid: false, pending: 0 };

class Refused extends Error {}

// api calls the server with the token; a 401 ends the session on this page.
async function api(method, path, body) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new Refused('no token');
  const r = await fetch(path, {
    method, cache: 'no-store',
    headers: { Authorization: 'Bearer ' + token, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    body,
  });
  if (r.status === 401) {
    signOut('The server refused this token: nothing is shown without the operator token.');
    throw new Refused('401');
  }
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* an error page, say */ }
  return { status: r.status, json, text };
}

function status(msg, bad = false) {
  const s = $('status');
  s.textContent = msg;
  s.className = bad ? 'bad' : '';
}

function signOut(msg) {
  sessionStorage.removeItem(TOKEN_KEY);
  clearInterval(state.timer);
  state.timer = 0;
  $('app').hidden = true;
  $('logout').hidden = true;
  $('live').textContent = '';
  status(msg, true);
}

// ---------------------------------------------------------------- live set, history, report

const pretty = (v) => JSON.stringify(v, null, 2);

async function refreshLive() {
  const r = await api('GET', '/api/rules');
  if (r.status === 404) { state.version = 0; $('live-version').textContent = 'none yet'; return; }
  if (r.status !== 200) throw new Error(`GET /api/rules answered ${r.status}: ${r.text}`);
  if (r.json.version === state.version) return false;
  state.version = r.json.version;
  state.live = r.json.rules;
  state.liveText = pretty(r.json.rules);
  $('live-version').textContent = r.json.version;
  $('live').textContent = state.liveText;
  if (!$('editor').value.trim()) loadLiveIntoEditor(); else showDiff();
  return true;
}

function describe(c) {
  if (c.change === 'first version:') return `first version: ${c.id}`;
  const what = c.section === 'settings' ? 'setting' : c.section.replace(/s$/, '');
  return `${what} ${c.id} ${c.change}`;
}

async function refreshHistory() {
  const r = await api('GET', '/api/rules/history');
  if (r.status !== 200) throw new Error(`GET /api/rules/history answered ${r.status}: ${r.text}`);
  const first = r.json.versions.length ? r.json.versions[r.json.versions.length - 1] : null;
  if (first) first.changes = [{ section: 'settings', id: `${first.changes.length} items`, change: 'first version:' }];
  $('versions').replaceChildren(...r.json.versions.map((v) => el('tr', { class: v.live ? 'live' : '', 'data-version': v.version },
    el('td', {}, v.version), el('td', {}, v.created.replace('T', ' ').replace('Z', ' UTC') + (v.rolled_back_from ? ` (rollback to ${v.rolled_back_from})` : '')),
    el('td', {}, v.changes.length ? el('ul', {}, v.changes.map((c) => el('li', {}, describe(c)))) : 'no change'),
    el('td', {}, v.live ? '' : rollbackButton(v.version)))));
}

// rollbackButton asks for a second click, so a stray one cannot change what every visitor sees.
function rollbackButton(n) {
  const b = el('button', { type: 'button', 'data-rollback': n }, `Roll back to ${n}`);
  b.onclick = async () => {
    if (!b.classList.contains('confirm')) {
      b.classList.add('confirm');
      b.textContent = `Confirm: make ${n}'s rules live`;
      setTimeout(() => { b.classList.remove('confirm'); b.textContent = `Roll back to ${n}`; }, 5000);
      return;
    }
    b.disabled = true;
    const r = await api('POST', '/api/rules/rollback', JSON.stringify({ version: n }));
    if (r.status === 201 || r.status === 200) status(`Rolled back: version ${r.json.version} has the rules of version ${n}.`);
    else status(`Rollback refused (${r.status}): ${problemsText(r.json) || r.text}`, true);
    await refresh(true);
  };
  return b;
}

async function refreshReport() {
  const r = await api('GET', '/api/report');
  if (r.status !== 200) throw new Error(`GET /api/report answered ${r.status}: ${r.text}`);
  renderReport(r.json);
}

async function refresh(force = false) {
  try {
    const changed = await refreshLive();
    if (changed || force || !$('versions').children.length) await refreshHistory();
    await refreshReport();
    status(`Live version ${state.version || 'none'} · updated ${new Date().toLocaleTimeString('en-GB')}`);
  } catch (e) {
    if (!(e instanceof Refused)) status('Refresh failed: ' + e.message, true);
  }
}

// ---------------------------------------------------------------- editor

function loadLiveIntoEditor() {
  $('editor').value = state.liveText;
  onEdit();
}

function drawGutter(errorLines = new Set()) {
  const n = $('editor').value.split('\n').length;
  const lines = [];
  for (let i = 1; i <= n; i++) lines.push(el('span', { class: errorLines.has(i) ? 'err' : '', 'data-line': i }, i, '\n'));
  $('gutter').replaceChildren(...lines);
  $('gutter').scrollTop = $('editor').scrollTop;
}

function problemsText(json) {
  return json && json.errors ? json.errors.map((e) => (e.path ? e.path + ': ' : '') + e.message).join('; ') : '';
}

// showProblems lists each error with its path and the line it points at; a click selects that line.
function showProblems(list) {
  const ul = $('problems');
  ul.className = list.length ? '' : 'ok';
  drawGutter(new Set(list.map((p) => p.line)));
  if (!list.length) { ul.replaceChildren(el('li', {}, 'Valid: the server accepts this rule set.')); return; }
  ul.replaceChildren(...list.map((p) => {
    const li = el('li', { 'data-path': p.path || '', 'data-line': p.line },
      p.path ? el('code', {}, p.path) : '', p.path ? ' ' : '', `line ${p.line}: ${p.message}`);
    li.onclick = () => selectLine(p.line);
    return li;
  }));
}

function selectLine(line) {
  const ed = $('editor');
  const lines = ed.value.split('\n');
  const start = lines.slice(0, line - 1).reduce((a, l) => a + l.length + 1, 0);
  ed.focus();
  ed.setSelectionRange(start, start + (lines[line - 1] || '').length);
  ed.scrollTop = Math.max(0, (line - 5) * parseFloat(getComputedStyle(ed).lineHeight));
}

function showDiff() {
  const next = $('editor').value;
  let nextText = next;
  try { nextText = pretty(JSON.parse(next)); } catch { /* diff the text as typed */ }
  const d = diffLines(state.liveText, nextText);
  const changed = d.some((l) => l.op !== ' ');
  // Unchanged runs longer than six lines are folded to their first and last three.
  const out = [];
  for (let i = 0; i < d.length; ) {
    let j = i;
    while (j < d.length && d[j].op === ' ') j++;
    const run = d.slice(i, j);
    if (run.length > 6) {
      run.slice(0, 3).forEach((l) => out.push(l));
      out.push({ op: '…', text: `  … ${run.length - 6} unchanged lines` });
      run.slice(-3).forEach((l) => out.push(l));
    } else run.forEach((l) => out.push(l));
    if (j < d.length) { out.push(d[j]); j++; }
    i = j;
  }
  $('diff').replaceChildren(changed
    ? el('span', {}, out.map((l) => el('span', { class: l.op === '+' ? 'add' : l.op === '-' ? 'del' : 'same' },
      (l.op === '…' ? '' : l.op + ' ') + l.text + '\n')))
    : el('span', { class: 'same' }, 'Same as the live set.'));
  return changed;
}

// onEdit validates as the operator types: JSON syntax here, the rules on the server (the same code that
// checks a push), each error with its path pointing at its line.
function onEdit() {
  drawGutter();
  state.valid = false;
  $('push').disabled = true;
  const changed = showDiff();
  clearTimeout(state.pending);
  const seq = ++state.validateSeq;
  state.pending = setTimeout(async () => {
    const text = $('editor').value;
    try {
      JSON.parse(text);
    } catch (e) {
      showProblems([{ path: '', line: syntaxErrorLine(text, e.message), message: 'not JSON: ' + e.message }]);
      return;
    }
    let r;
    try { r = await api('POST', '/api/validate', text); } catch { return; }
    if (seq !== state.validateSeq) return; // the operator typed on: a newer check is on its way
    if (r.status === 200) {
      state.valid = true;
      $('push').disabled = !changed;
      showProblems([]);
      return;
    }
    const paths = locatePaths(text) || new Map();
    const errs = (r.json && r.json.errors) || [{ path: '', message: r.text }];
    showProblems(errs.map((e) => ({ path: e.path, message: e.message, line: lineOfPath(paths, e.path) })));
  }, VALIDATE_DELAY_MS);
}

async function push() {
  $('push').disabled = true;
  const r = await api('POST', '/api/rules', $('editor').value);
  if (r.status === 201) $('push-status').textContent = `Pushed: version ${r.json.version} is live.`;
  else if (r.status === 200) $('push-status').textContent = 'Same as the live set: nothing pushed.';
  else {
    $('push-status').textContent = `Refused (${r.status}); the live set stays.`;
    const paths = locatePaths($('editor').value) || new Map();
    showProblems(((r.json && r.json.errors) || []).map((e) => ({ ...e, line: lineOfPath(paths, e.path) })));
  }
  await refresh(true);
  onEdit();
}

// ---------------------------------------------------------------- start

async function start() {
  $('app').hidden = false;
  $('logout').hidden = false;
  state.version = 0;
  await refresh(true);
  if (!sessionStorage.getItem(TOKEN_KEY)) return;
  clearInterval(state.timer);
  state.timer = setInterval(refresh, REFRESH_MS);
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('token').value);
  $('token').value = '';
  status('Checking the token…');
  start();
});
$('logout').onclick = () => signOut('Token forgotten.');
$('editor').addEventListener('input', onEdit);
$('editor').addEventListener('scroll', () => { $('gutter').scrollTop = $('editor').scrollTop; });
$('load-live').onclick = loadLiveIntoEditor;
$('push').onclick = push;
$('charts-note').textContent = chartsAvailable() ? '' :
  'Charts are missing: the build did not copy Chart.js into /dashboard/vendor/ (see web/dashboard/package.json).';
if (sessionStorage.getItem(TOKEN_KEY)) start();
