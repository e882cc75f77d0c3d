// What leaves the browser, and what stays: consent and Global Privacy Control stop every count frame; a
// capture of every frame sent holds no seed, cookie, URL, title or precise timestamp; forget erases it all.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer, launch, watchFrames, frameKind, numbers, KIND, decided, screenshot } = require('./helpers');

let server, browser;
test.before(async () => { [server, browser] = await Promise.all([startServer(), launch()]); });
test.after(async () => { await browser?.close(); await server?.stop(); });

// browse does what makes counts: pages with slots, a preference that enters a segment, a goal.
async function browse(page) {
  await page.goto(server.url + '/index.html');
  await page.evaluate(() => tailor.ready);
  await page.click('[data-trip=sea]');
  await decided(page, 'home-hero', 'sea');
  await page.click('[data-tailor-goal=holiday_booked]');
  await page.goto(server.url + '/articles.html');
  await page.evaluate(() => tailor.ready);
  await page.click('[data-article=a1] [data-read]');
  // Counts go out about a second after they are made.
  await page.waitForTimeout(2500);
}

const batches = (frames) => frames.sent.filter((b) => frameKind(b) === KIND.batch);

test('with consent, count batches are sent and acknowledged', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const frames = watchFrames(page);
  await browse(page);
  assert.ok(batches(frames).length > 0, 'a count batch was sent');
  assert.ok(frames.received.some((b) => frameKind(b) === KIND.ack), 'the server acknowledged it');
  const pending = await page.evaluate(() => tailor.export().then((d) => d.pending_counts));
  assert.equal(pending, 0);
  await context.close();
});

test('consent refused by the page: no count frame, preferences still work', async () => {
  const context = await browser.newContext();
  // The site renders data-consent="false" until its consent banner says otherwise. The attribute is added
  // as the parser inserts the tag, before it runs: the parser runs pending microtasks before a script.
  // (Rewriting the response with page.route would do too, but Chromium then treats the page as public and
  // its Local Network Access checks block the socket to 127.0.0.1.)
  await context.addInitScript(() => {
    new MutationObserver((records, obs) => {
      const tag = document.querySelector('script[src="/tailor.js"]');
      if (tag) { tag.setAttribute('data-consent', 'false'); obs.disconnect(); }
    }).observe(document, { childList: true, subtree: true });
  });
  const page = await context.newPage();
  const frames = watchFrames(page);
  await browse(page);
  assert.ok(frames.sent.some((b) => frameKind(b) === KIND.hello), 'the page did talk to the server');
  assert.equal(batches(frames).length, 0);
  await page.evaluate(() => tailor.setPref('theme', 'dark'));
  assert.equal(await page.getAttribute('html', 'data-pref-theme'), 'dark');
  const data = await page.evaluate(() => tailor.export());
  assert.equal(data.consent, false);
  assert.deepEqual(data.counters, {}, 'no behaviour recorded');
  assert.equal(data.preferences.trip, 'sea');
  await context.close();
});

test('consent refused with tailor.consent(false): no count frame', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const frames = watchFrames(page);
  await page.goto(server.url + '/display.html');
  await page.evaluate(() => tailor.consent(false));
  await browse(page);
  assert.equal(batches(frames).length, 0);
  await context.close();
});

test('Global Privacy Control on: no count frame', async () => {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });
  });
  const page = await context.newPage();
  const frames = watchFrames(page);
  await browse(page);
  assert.equal(batches(frames).length, 0);
  assert.equal(await page.evaluate(() => tailor.export().then((d) => d.consent)), false);
  await context.close();
});

test('no seed, cookie, URL, page title or precise timestamp in any frame sent', async () => {
  const context = await browser.newContext();
  const cookie = 'c00kie-' + Math.random().toString(36).slice(2);
  await context.addCookies([{ name: 'session', value: cookie, url: server.url }]);
  const page = await context.newPage();
  const frames = watchFrames(page);
  const start = Date.now();
  await browse(page);
  await page.goto(server.url + '/cars.html');
  for (const m of ['yaris', 'yaris', 'rav4', 'yaris', 'corolla', 'yaris']) await page.click(`[data-details=${m}]`);
  await page.waitForSelector('[data-popin=testdrive]');
  await page.waitForTimeout(2500);
  const end = Date.now();
  assert.ok(batches(frames).length > 0, 'the capture holds count batches');

  const seed = await page.evaluate(() => localStorage.getItem('tailor:seed'));
  assert.ok(seed && seed.length >= 16);
  const secrets = [seed, cookie, server.url, '127.0.0.1', 'index.html', 'articles', 'cars.html', '/index', 'Holidays · Tailor demo',
    'Tailor demo', 'Cars', 'car/yaris'];
  for (const b of frames.sent) {
    const s = b.toString('latin1');
    for (const x of secrets) assert.ok(!s.includes(x), `a frame holds ${JSON.stringify(x)}`);
    // Any number a frame holds, in any encoding, must not be an instant of the test run in seconds,
    // milliseconds, microseconds or nanoseconds. Report windows in Unix hours are coarse on purpose.
    for (const n of numbers(b)) {
      for (const scale of [1e-3, 1, 1e3, 1e6]) {
        const lo = (start - 60000) * scale;
        const hi = (end + 60000) * scale;
        const v = Number(n);
        assert.ok(!(v >= lo && v <= hi), `a frame holds the instant ${n}`);
      }
    }
  }
  await context.close();
});

test('the panel shows what is kept, exports it, and forget leaves no Tailor data in storage', async () => {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await browse(page);
  await page.goto(server.url + '/index.html');
  await page.evaluate(() => tailor.ready);
  await page.click('[data-demo-panel]');
  const panel = page.locator('[data-tailor-panel]');
  await panel.getByText('sea_lover: assigned by a preference the visitor chose').waitFor();
  await panel.getByText(/home-hero shows sea/).waitFor();
  await screenshot(page, 'panel');

  const [download] = await Promise.all([page.waitForEvent('download'), panel.getByText('Export (JSON)').click()]);
  const exported = JSON.parse(await require('node:fs/promises').readFile(await download.path(), 'utf8'));
  assert.equal(exported.preferences.trip, 'sea');
  assert.ok(exported.interests.asia > 0);

  const before = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('tailor:')));
  assert.ok(before.includes('tailor:state') && before.includes('tailor:seed'));
  await panel.getByText('Forget everything').click();
  await panel.getByText('none yet').waitFor();
  // Leaving the page after forgetting writes nothing back either.
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
  const after = await page.evaluate(async () => ({
    local: Object.keys(localStorage),
    session: Object.keys(sessionStorage),
    cookies: document.cookie,
    idb: (await indexedDB.databases()).map((d) => d.name),
  }));
  assert.deepEqual(after, { local: [], session: [], cookies: '', idb: [] });
  const data = await page.evaluate(() => tailor.export());
  assert.deepEqual(data.interests, {});
  assert.deepEqual(data.segments, []);
  await context.close();
});
