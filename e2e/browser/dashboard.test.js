// The operator dashboard in Chromium, against the real server binary: the token gate, validation as the
// operator types with the error at its path and line, push, counts from demo visitors turning into rates and
// an uplift, and rollback, each seen both on the dashboard and on an open demo page.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { startServer, launch, demoRules, screenshot, decided, readFields, KIND } = require('./helpers');

let server, browser, dash, demo;
test.before(async () => { [server, browser] = await Promise.all([startServer(), launch()]); });
test.after(async () => { await browser?.close(); await server?.stop(); });

const WELCOME = 'Welcome to the Tailor demo';
const TRAVELLER = 'Welcome, traveller';
const HOLDOUT = 0.5; // half the visitors held out of home-welcome, so both arms fill with few visitors
const VISITORS = 48; // at a 50% holdout, P(an arm under 14) < 0.001: enough for k = 10 conversions per arm
const LANES = 8; // browser contexts the visitors share, one after another in each (see visitLane)

async function apiGet(path) {
  const r = await fetch(server.url + path, { headers: { Authorization: 'Bearer ' + server.token } });
  assert.equal(r.status, 200, `GET ${path}`);
  return r.json();
}

async function openDashboard(token) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.apiStatuses = [];
  page.on('response', (r) => { if (new URL(r.url()).pathname.startsWith('/api/')) page.apiStatuses.push(r.status()); });
  await page.goto(server.url + '/dashboard');
  await page.fill('#token', token);
  await page.click('#login button[type=submit]');
  return page;
}

const editorRules = () => {
  const rules = demoRules();
  return { rules, welcome: rules.slots.find((s) => s.id === 'home-welcome'), index: rules.slots.findIndex((s) => s.id === 'home-welcome') };
};

// typeRules puts rules in the editor and fires the input event it validates on, as typing does. (Playwright's
// fill() types a rule set this size in seconds; the page sees the same event either way.)
async function typeRules(page, rules) {
  await page.locator('#editor').evaluate((e, text) => {
    e.value = text;
    e.dispatchEvent(new Event('input', { bubbles: true }));
  }, JSON.stringify(rules, null, 2));
}

test('a wrong token gets nothing', async () => {
  const page = await openDashboard('not-the-token');
  await page.waitForFunction(() => /refused/.test(document.getElementById('status').textContent));
  assert.equal(await page.isHidden('#app'), true);
  assert.equal(await page.textContent('#live'), '');
  assert.ok(page.apiStatuses.length > 0 && page.apiStatuses.every((s) => s === 401), `statuses ${page.apiStatuses}`);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused token is not kept');
  await screenshot(page, 'dashboard-wrong-token');
  await page.context().close();
});

test('an invalid rule set shows the error at its path and line, and the live set stays', async () => {
  dash = await openDashboard(server.token);
  await dash.waitForFunction(() => document.getElementById('live-version').textContent === '1');
  assert.match(await dash.textContent('#live'), new RegExp(WELCOME));
  // The editor starts from the live set; the charts library is in the binary.
  assert.match(await dash.inputValue('#editor'), /"home-welcome"/);
  assert.equal(await dash.evaluate(() => typeof window.Chart), 'function',
    'web/static/dashboard/vendor/chart.umd.min.js is not served: the build must copy Chart.js there (web/dashboard/package.json)');

  const { rules, welcome, index } = editorRules();
  welcome.holdout = 2;
  await typeRules(dash, rules);
  const path = `slots[${index}].holdout`;
  const item = dash.locator(`#problems li[data-path="${path}"]`);
  await item.waitFor();
  assert.match(await item.textContent(), /must be a share between 0 and 1/);
  const lines = (await dash.inputValue('#editor')).split('\n');
  const want = lines.findIndex((l) => l.includes('"holdout": 2')) + 1;
  assert.equal(Number(await item.getAttribute('data-line')), want, 'the error points at the line of its path');
  assert.match(await item.textContent(), new RegExp(`line ${want}:`));
  assert.equal(await dash.getAttribute(`#gutter [data-line="${want}"]`, 'class'), 'err');
  assert.equal(await dash.isDisabled('#push'), true, 'an invalid set cannot be pushed');
  // Clicking the error selects its line in the editor.
  await item.click();
  assert.equal(await dash.evaluate(() => { const e = document.getElementById('editor'); return e.value.slice(e.selectionStart, e.selectionEnd).trim(); }), '"holdout": 2,');

  // Not JSON at all: the syntax error points at its line too.
  await dash.fill('#editor', '{\n  "name": "x",\n}');
  await dash.waitForFunction(() => /not JSON/.test(document.getElementById('problems').textContent));
  assert.equal(await dash.getAttribute('#problems li', 'data-line'), '3');

  const live = await apiGet('/api/rules');
  assert.equal(live.version, 1, 'the live set stays');
  await typeRules(dash, rules);
  await item.waitFor();
  await screenshot(dash, 'dashboard-invalid');
});

test('a valid push increments the version and an open demo page changes', async () => {
  const context = await browser.newContext();
  demo = await context.newPage();
  await demo.goto(server.url + '/index.html');
  await decided(demo, 'home-welcome');
  assert.equal(await demo.textContent('[data-tailor-slot=home-welcome]'), WELCOME);

  const { rules, welcome } = editorRules();
  welcome.holdout = HOLDOUT;
  welcome.default.text = TRAVELLER;
  await typeRules(dash, rules);
  await dash.waitForFunction(() => /Valid/.test(document.getElementById('problems').textContent));
  const diff = await dash.textContent('#diff');
  assert.match(diff, /\+ +"text": "Welcome, traveller"/);
  assert.match(diff, /- +"text": "Welcome to the Tailor demo"/);
  await dash.click('#push');
  await dash.waitForFunction(() => document.getElementById('live-version').textContent === '2');
  assert.match(await dash.textContent('#push-status'), /version 2 is live/);
  await demo.waitForFunction((t) => document.querySelector('[data-tailor-slot=home-welcome]').textContent === t, TRAVELLER);
  // The history says what changed.
  assert.match(await dash.textContent('#versions tr[data-version="2"]'), /slot home-welcome changed/);
  await screenshot(demo, 'dashboard-demo-after-push');
});

// batchIDs records the ids of the count batches a page sends and of the acks it receives.
function batchIDs(page) {
  const ids = { sent: new Set(), acked: new Set() };
  const idOf = (payload) => {
    const f = readFields(Buffer.from(payload));
    const kind = f && f.find((x) => x.field === 1);
    const id = f && f.find((x) => x.field === 7);
    return kind && id ? [Number(kind.value), id.value] : [0, 0n];
  };
  page.on('websocket', (ws) => {
    ws.on('framesent', (fr) => { const [k, id] = idOf(fr.payload); if (k === KIND.batch) ids.sent.add(id); });
    ws.on('framereceived', (fr) => { const [k, id] = idOf(fr.payload); if (k === KIND.ack) ids.acked.add(id); });
  });
  return ids;
}

// visitLane runs visitors one after another in one browser context: each is a new visitor (tailor.forget()
// erases the last one, and the next page starts with a new seed), and leaves only once the server has
// acknowledged every batch of its counts. Reusing the context spares compiling the engine for each visitor.
// Visitor i: the first three choose the sea (a segment under k); the personalized arm always books, the
// holdout arm three times in four, so the uplift is positive.
async function visitLane(lane, booked) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const ids = batchIDs(page);
  for (let i = lane; i < VISITORS; i += LANES) {
    await page.goto(server.url + '/index.html');
    await page.evaluate(() => tailor.ready);
    await decided(page, 'home-welcome');
    const arm = await page.evaluate(() => tailor.why('home-welcome').arm);
    if (i < 3) await page.click('[data-tailor-slot=home-hero] [data-trip=sea]');
    if (arm === 'personalized' || i % 4 !== 0) {
      await page.click('[data-tailor-goal=holiday_booked]');
      booked[arm]++;
    }
    // Counts leave a second after what produced them; then every batch sent must be acknowledged.
    await page.waitForTimeout(1200);
    for (const deadline = Date.now() + 10000; [...ids.sent].some((id) => !ids.acked.has(id));) {
      assert.ok(Date.now() < deadline, `visitor ${i}: batches ${[...ids.sent]} sent, ${[...ids.acked]} acknowledged`);
      await page.waitForTimeout(50);
    }
    await page.evaluate(() => tailor.forget());
  }
  await context.close();
}

test('after demo pages send counts, the dashboard shows them and the uplift', async () => {
  const booked = { personalized: 0, holdout: 0 };
  await Promise.all(Array.from({ length: LANES }, (_, lane) => visitLane(lane, booked)));

  // Every count is in: the report has each booking, and the dashboard, refreshing by itself, shows it.
  // forget() starts a new visitor whose page view is counted a second later, so wait until the report
  // stops changing before reading the figures the dashboard must show.
  let rep = await apiGet('/api/report');
  for (let prev = '', tries = 0; JSON.stringify(rep.slots) !== prev && tries < 12; tries++) {
    prev = JSON.stringify(rep.slots);
    await new Promise((r) => setTimeout(r, 2500));
    rep = await apiGet('/api/report');
  }
  const slot = rep.slots.find((s) => s.slot === 'home-welcome');
  const goal = slot.goals.find((g) => g.goal === 'holiday_booked');
  assert.deepEqual({ personalized: goal.conversions.personalized.n, holdout: goal.conversions.holdout.n }, booked, JSON.stringify(goal));
  assert.ok(goal.uplift && goal.uplift.absolute > 0, JSON.stringify(goal));
  const pp = (x) => (x >= 0 ? '+' : '') + (100 * x).toFixed(1) + ' pp';
  const want = `${pp(goal.uplift.absolute)} (95% CI ${pp(goal.uplift.ci.low)} to ${pp(goal.uplift.ci.high)})`;
  const card = dash.locator('[data-slot="home-welcome"]');
  await dash.waitForFunction((w) => {
    const td = document.querySelector('[data-slot="home-welcome"] tr[data-goal="holiday_booked"] td.uplift');
    return td && td.textContent.startsWith(w);
  }, want, { timeout: 20000 }).catch(async (e) => {
    const shown = await dash.locator('[data-slot="home-welcome"] tr[data-goal="holiday_booked"] td.uplift').textContent().catch(() => '(none)');
    throw new Error(`the dashboard shows ${JSON.stringify(shown)}, the report says ${want}: ${e.message}`);
  });
  assert.match(await card.textContent(), /Sample ratio as configured|Sample-ratio mismatch/);
  // The exposures on the page are the report's.
  const facts = await card.locator('.facts').textContent();
  assert.match(facts, new RegExp(`personalized ${slot.exposures.personalized.n}, holdout ${slot.exposures.holdout.n}`));
  // Rates and uplift are charts (Chart.js), not only text.
  const drawn = await card.locator('canvas').evaluateAll((cs) => cs.filter((c) => window.Chart.getChart(c)).length);
  assert.ok(drawn >= 2, `${drawn} charts in the slot's card`);

  // Three sea lovers: a count under k, shown as "fewer than 10" and absent as a number from the data call.
  const sea = rep.segments.find((s) => s.id === 'sea_lover');
  assert.ok(sea.windows.length > 0 && sea.windows.every((w) => w.suppressed && w.n === undefined), JSON.stringify(sea));
  await dash.waitForFunction(() => /fewer than 10/.test(document.querySelector('#segments tr[data-id="sea_lover"]')?.textContent || ''));
  await screenshot(dash, 'dashboard-counts');
  await card.screenshot({ path: path.join(__dirname, '..', 'screenshots', 'dashboard-uplift.png') });
});

test('a rollback restores the earlier set everywhere', async () => {
  const button = dash.locator('button[data-rollback="1"]');
  await button.click();
  await button.click(); // the second click confirms
  await dash.waitForFunction(() => document.getElementById('live-version').textContent === '3');
  assert.match(await dash.textContent('#live'), new RegExp(WELCOME));
  assert.match(await dash.textContent('#versions tr[data-version="3"]'), /rollback to 1/);
  assert.match(await dash.textContent('#versions tr[data-version="3"]'), /slot home-welcome changed/);
  await demo.waitForFunction((t) => document.querySelector('[data-tailor-slot=home-welcome]').textContent === t, WELCOME);
  const live = await apiGet('/api/rules');
  assert.equal(live.version, 3);
  assert.equal(live.rules.slots.find((s) => s.id === 'home-welcome').default.text, WELCOME);
  // A new visitor gets the earlier set too.
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(server.url + '/index.html');
  await decided(page, 'home-welcome');
  assert.equal(await page.textContent('[data-tailor-slot=home-welcome]'), WELCOME);
  await context.close();
  await screenshot(dash, 'dashboard-rollback');
  assert.deepEqual(dash.errors, []);
  await demo.context().close();
  await dash.context().close();
});
