// The report part of the dashboard: per slot the arms' rates with intervals, the uplift and the SRM check;
// per segment entries and per trigger fires over time. Tables always; charts when Chart.js (copied from npm
// into vendor/ by the build) is there. Charts are kept by id and updated in place, so a refresh every few
// seconds does not flicker or lose the reader's place.

const charts = new Map();

export function chartsAvailable() { return typeof window.Chart === 'function'; }

// el builds an element: el('td', {class: 'n'}, 'text', child...). Text is always textContent, never markup:
// ids in a report come from rule sets and counts and are not trusted as HTML.
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'onclick' || k === 'oninput') e[k] = v; else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
  return e;
}

// count shows a published count, or "fewer than k" for a suppressed one: the JSON holds no number for it.
function count(c, k) {
  if (!c || c.suppressed || c.n === undefined) return el('span', { class: 'suppressed' }, `fewer than ${k}`);
  return el('span', { class: 'n' }, c.n.toLocaleString('en'));
}

const pct = (x, digits = 1) => (100 * x).toFixed(digits) + '%';
const pp = (x) => (x >= 0 ? '+' : '') + (100 * x).toFixed(1) + ' pp';
const rateText = (r) => r ? `${pct(r.rate)} (95% CI ${pct(r.ci.low)} to ${pct(r.ci.high)})` : '—';

function chart(key, canvas, config) {
  let c = charts.get(key);
  if (c && c.canvas === canvas) {
    c.data = config.data;
    c.update('none');
    return;
  }
  if (c) c.destroy();
  charts.set(key, new window.Chart(canvas, config));
}

// canvasFor returns the canvas kept for key inside parent, creating it once.
function canvasFor(parent, key, cls) {
  let holder = parent.querySelector(`[data-chart="${CSS.escape(key)}"]`);
  if (!holder) {
    holder = el('div', { class: 'chart ' + (cls || ''), 'data-chart': key }, el('canvas', { 'aria-label': key, role: 'img' }));
    parent.append(holder);
  }
  return holder.querySelector('canvas');
}

const ARM_COLOURS = { personalized: '#2f6fdf', holdout: '#8a8f98' };

// rateChart draws each arm's rate as a point with its 95% interval as a floating bar.
function rateChart(parent, key, goal) {
  const arms = [['personalized', goal.personalized], ['holdout', goal.holdout]].filter(([, r]) => r);
  if (!arms.length) return;
  chart(key, canvasFor(parent, key), {
    type: 'bar',
    data: {
      labels: arms.map(([a]) => a),
      datasets: [
        { type: 'bar', label: '95% interval', data: arms.map(([, r]) => [r.ci.low * 100, r.ci.high * 100]),
          backgroundColor: arms.map(([a]) => ARM_COLOURS[a] + '55'), borderColor: arms.map(([a]) => ARM_COLOURS[a]),
          borderWidth: 1, barPercentage: 0.5 },
        { type: 'line', label: 'conversion rate', data: arms.map(([, r]) => r.rate * 100), showLine: false,
          pointRadius: 6, pointStyle: 'rectRot', borderColor: '#111', backgroundColor: '#111' },
      ],
    },
    options: {
      indexAxis: 'y', animation: false, maintainAspectRatio: false,
      scales: { x: { min: 0, max: 100, title: { display: true, text: 'conversion rate, %' } } },
      plugins: { legend: { display: false }, title: { display: true, text: `${goal.goal}: rate per arm, 95% interval` } },
    },
  });
}

// upliftChart draws the difference of the rates with its interval against zero.
function upliftChart(parent, key, goal) {
  if (!goal.uplift) return;
  const u = goal.uplift;
  const reach = Math.max(0.05, Math.abs(u.ci.low), Math.abs(u.ci.high)) * 100;
  chart(key, canvasFor(parent, key, 'short'), {
    type: 'bar',
    data: {
      labels: ['uplift'],
      datasets: [
        { type: 'bar', label: '95% interval', data: [[u.ci.low * 100, u.ci.high * 100]], backgroundColor: '#1a9a5a55',
          borderColor: '#1a9a5a', borderWidth: 1, barPercentage: 0.5 },
        { type: 'line', label: 'uplift', data: [u.absolute * 100], showLine: false, pointRadius: 6, pointStyle: 'rectRot',
          borderColor: '#111', backgroundColor: '#111' },
      ],
    },
    options: {
      indexAxis: 'y', animation: false, maintainAspectRatio: false,
      scales: { x: { min: -reach, max: reach, title: { display: true, text: 'percentage points (personalized − holdout)' },
        grid: { color: (c) => (c.tick && c.tick.value === 0 ? '#111' : '#0001') } } },
      plugins: { legend: { display: false }, title: { display: true, text: `${goal.goal}: uplift, 95% interval` } },
    },
  });
}

function slotCard(slot, k, container) {
  const key = 'slot:' + slot.slot;
  let card = container.querySelector(`[data-slot="${CSS.escape(slot.slot)}"]`);
  if (!card) {
    card = el('article', { class: 'card slot', 'data-slot': slot.slot },
      el('h3', {}, slot.slot), el('div', { class: 'facts' }), el('div', { class: 'tables' }), el('div', { class: 'charts' }));
    container.append(card);
  }
  card.querySelector('h3').textContent = slot.slot + (slot.live ? '' : ' (not in the live rule set)');
  const facts = card.querySelector('.facts');
  const srm = slot.srm
    ? el('p', { class: 'srm ' + (slot.srm.mismatch ? 'bad' : 'ok') },
      slot.srm.mismatch ? 'Sample-ratio mismatch: ' : 'Sample ratio as configured: ',
      `holdout got ${pct(slot.srm.observed_share)} of exposures, ${pct(slot.srm.holdout_share)} configured; ` +
      `χ² = ${slot.srm.chi_square.toFixed(2)}, p = ${slot.srm.p < 1e-4 ? slot.srm.p.toExponential(1) : slot.srm.p.toFixed(4)}` +
      (slot.srm.mismatch ? ' (under 0.001: do not trust this slot\'s uplift until the cause is found)' : ''))
    : el('p', { class: 'srm none' }, 'No sample-ratio check: ' + (slot.srm_note || ''));
  facts.replaceChildren(
    el('p', {}, 'Exposures: personalized ', count(slot.exposures.personalized, k), ', holdout ', count(slot.exposures.holdout, k),
      ` (holdout share ${pct(slot.holdout_share)})`),
    srm);

  const goals = slot.goals.map((g) => g.goal);
  const head = el('tr', {}, el('th', {}, 'variant'), el('th', {}, 'arm'), el('th', {}, 'exposures'),
    goals.map((g) => el('th', {}, g)), goals.map((g) => el('th', {}, g + ' rate')));
  const rows = slot.variants.map((v) => el('tr', { 'data-variant': v.variant, 'data-arm': v.arm },
    el('td', {}, v.variant), el('td', {}, v.arm), el('td', {}, count(v.exposures, k)),
    goals.map((g) => el('td', {}, count(v.conversions[g], k))),
    goals.map((g) => el('td', {}, v.rates && v.rates[g] ? rateText(v.rates[g]) : '—'))));
  const goalRows = slot.goals.map((g) => el('tr', { 'data-goal': g.goal },
    el('td', {}, g.goal), el('td', {}, count(g.conversions.personalized, k)), el('td', {}, count(g.conversions.holdout, k)),
    el('td', {}, rateText(g.personalized)), el('td', {}, rateText(g.holdout)),
    el('td', { class: 'uplift' }, g.uplift
      ? `${pp(g.uplift.absolute)} (95% CI ${pp(g.uplift.ci.low)} to ${pp(g.uplift.ci.high)})` +
        (g.uplift.relative !== undefined ? `, ${g.uplift.relative >= 0 ? '+' : ''}${pct(g.uplift.relative)} relative` : '')
      : (g.note || '—'))));
  card.querySelector('.tables').replaceChildren(
    el('table', { class: 'variants' }, el('caption', {}, 'Per variant and arm, all report windows'), el('thead', {}, head), el('tbody', {}, rows)),
    el('table', { class: 'goals' }, el('caption', {}, 'What personalization changed'),
      el('thead', {}, el('tr', {}, ['goal', 'conversions, personalized', 'conversions, holdout', 'rate, personalized', 'rate, holdout', 'uplift']
        .map((t) => el('th', {}, t)))),
      el('tbody', {}, goalRows)));
  if (chartsAvailable()) {
    const box = card.querySelector('.charts');
    for (const g of slot.goals) {
      rateChart(box, key + ':rate:' + g.goal, g);
      upliftChart(box, key + ':uplift:' + g.goal, g);
    }
  }
}

// seriesSection draws one line per segment (or trigger) over the report windows, with a gap where a
// window is under k, and a table that says "fewer than k" there.
function seriesSection(list, k, container, what) {
  const windows = [...new Set(list.flatMap((s) => s.windows.map((w) => w.window)))].sort((a, b) => a - b);
  const label = (w) => new Date(w * 3600 * 1000).toISOString().slice(0, 16).replace('T', ' ');
  const table = el('table', { class: 'series' },
    el('thead', {}, el('tr', {}, el('th', {}, what), windows.map((w) => el('th', {}, label(w))), el('th', {}, 'shown total'))),
    el('tbody', {}, list.map((s) => {
      const byW = new Map(s.windows.map((w) => [w.window, w]));
      return el('tr', { 'data-id': s.id }, el('td', {}, s.id + (s.live ? '' : ' (old)')),
        windows.map((w) => el('td', {}, byW.has(w) ? count(byW.get(w), k) : '0')),
        el('td', {}, s.reported_total.toLocaleString('en') + (s.suppressed_windows ? ` + ${s.suppressed_windows} window(s) under k` : '')));
    })));
  let tables = container.querySelector('.tables');
  if (!tables) { tables = el('div', { class: 'tables' }); container.append(tables); }
  tables.replaceChildren(list.length ? table : el('p', {}, `No ${what} in the live rule set.`));
  if (!chartsAvailable() || !windows.length) return;
  const palette = ['#2f6fdf', '#d9480f', '#1a9a5a', '#9c36b5', '#e8590c', '#0b7285', '#5c940d', '#c2255c'];
  chart(what, canvasFor(container, what, 'wide'), {
    type: 'line',
    data: {
      labels: windows.map(label),
      datasets: list.map((s, i) => {
        const byW = new Map(s.windows.map((w) => [w.window, w]));
        return { label: s.id, borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length],
          spanGaps: false, data: windows.map((w) => (byW.has(w) ? (byW.get(w).suppressed ? null : byW.get(w).n) : 0)) };
      }),
    },
    options: { animation: false, maintainAspectRatio: false,
      scales: { y: { beginAtZero: true, title: { display: true, text: what === 'segments' ? 'entries' : 'fires' } } },
      plugins: { title: { display: true, text: `${what} per report window (gaps: fewer than ${k})` } } },
  });
}

// renderReport draws the report into the page's report sections.
export function renderReport(rep) {
  const slots = document.getElementById('slots');
  const ids = new Set(rep.slots.map((s) => s.slot));
  for (const card of slots.querySelectorAll('[data-slot]')) {
    if (!ids.has(card.dataset.slot)) card.remove();
  }
  for (const s of rep.slots) slotCard(s, rep.k, slots);
  seriesSection(rep.segments, rep.k, document.getElementById('segments'), 'segments');
  seriesSection(rep.triggers, rep.k, document.getElementById('triggers'), 'triggers');
  document.getElementById('k').textContent = rep.k;
}
