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
  const cold = [];
  const repeat = [];
  // Three new visitors (empty cache and storage), each loading the page again once: the first visit waits
  // for the server's rule set; the repeat decides from the saved one before the socket answers.
  for (let i = 0; i < 3; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.addInitScript(recordFirstDecision);

    await page.goto(server.url + '/index.html');
    // The page's HTML holds the default text, so a first visit does not flicker; only the engine's decision
    // (default or returning-visitor variant, holdout or not) writes the variant attribute.
    const h1 = page.locator('[data-tailor-slot="home-welcome"]');
    await page.waitForFunction(() => document.querySelector('[data-tailor-slot="home-welcome"]').hasAttribute('data-tailor-variant'),
      null, { timeout: 15000 });
    const variant = await h1.getAttribute('data-tailor-variant');
    assert.ok(['welcome', 'welcome-back'].includes(variant), `variant ${variant}`);
    assert.equal(await h1.textContent(), variant === 'welcome' ? 'Welcome to the Tailor demo' : 'Welcome back');
    cold.push(await page.evaluate(() => window.__firstDecision));
    const why = await page.evaluate(() => tailor.why('home-welcome'));
    assert.equal(why.variant, variant);
    assert.ok(why.reason.length > 0);
    if (i === 0) await screenshot(page, 'index');

    await page.reload();
    await page.waitForFunction(() => window.__firstDecision !== undefined, null, { timeout: 15000 });
    repeat.push(await page.evaluate(() => window.__firstDecision));
    assert.deepEqual(errors, []);
    await context.close();
  }
  const ms = (list) => list.map((t) => t.toFixed(0)).join(', ') + ' ms (median ' + median(list).toFixed(0) + ')';
  console.log(`time from navigation to first decision: cold ${ms(cold)}; repeat ${ms(repeat)}`);
});

function median(list) {
  const s = [...list].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
