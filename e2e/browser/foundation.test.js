// The foundation: a page served by the real server binary, with the one script tag, shows a decision the
// engine made in the browser. Prints the time from navigation to the first decision, cold and repeat.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer, launch, screenshot } = require('./helpers');

let server, browser;
test.before(async () => { [server, browser] = await Promise.all([startServer(), launch()]); });
test.after(async () => { await browser?.close(); await server?.stop(); });

// firstDecision records, in the page, when tailor:decided first fires, on the navigation's clock.
function recordFirstDecision() {
  window.addEventListener('tailor:decided', () => {
    if (window.__firstDecision === undefined) window.__firstDecision = performance.now();
  });
}

test('the engine decides a slot in Chromium, from a page of the real server', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript(recordFirstDecision);

  await page.goto(server.url + '/index.html');
  // The page's HTML says "Tailor demo"; only the engine's decision (default or returning-visitor variant,
  // holdout or not) writes a welcome text and the variant attribute.
  const h1 = page.locator('[data-tailor-slot="home-welcome"]');
  await page.waitForFunction(() => document.querySelector('[data-tailor-slot="home-welcome"]').hasAttribute('data-tailor-variant'),
    null, { timeout: 15000 });
  const variant = await h1.getAttribute('data-tailor-variant');
  assert.ok(['welcome', 'welcome-back'].includes(variant), `variant ${variant}`);
  assert.match(await h1.textContent(), /^Welcome/);
  const cold = await page.evaluate(() => window.__firstDecision);
  const why = await page.evaluate(() => tailor.why('home-welcome'));
  assert.equal(why.variant, variant);
  assert.ok(why.reason.length > 0);
  await screenshot(page, 'index');

  await page.reload();
  await page.waitForFunction(() => window.__firstDecision !== undefined, null, { timeout: 15000 });
  const repeat = await page.evaluate(() => window.__firstDecision);
  console.log(`time from navigation to first decision: cold ${cold.toFixed(0)} ms, repeat ${repeat.toFixed(0)} ms`);
  assert.deepEqual(errors, []);
  await context.close();
});
