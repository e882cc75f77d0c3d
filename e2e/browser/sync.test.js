// The socket's resilience: with the server gone the open page keeps working on the last good rule set;
// it reconnects with backoff (never at once) and takes the rule set pushed meanwhile.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer, launch, pushRules, demoRules, decided, frameKind, KIND } = require('./helpers');

let server, browser;
test.before(async () => { [server, browser] = await Promise.all([startServer(), launch()]); });
test.after(async () => { await browser?.close(); await server?.stop(); });

test('without a server the page keeps working, then reconnects with backoff and takes the new rule set', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const sockets = [];
  page.on('websocket', (ws) => {
    const s = { opened: Date.now(), closed: 0, hello: false };
    ws.on('close', () => { s.closed = Date.now(); });
    ws.on('framesent', (f) => { if (frameKind(Buffer.from(f.payload)) === KIND.hello) s.hello = true; });
    sockets.push(s);
  });
  await page.goto(server.url + '/index.html');
  await decided(page, 'home-hero', 'choose');
  await page.waitForFunction(() => localStorage.getItem('tailor:rules'));

  await server.halt();
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(sockets[0].closed > 0, 'the socket closed with the server');

  // Offline: the visitor's choices still work on the rule set the page holds.
  await page.click('[data-trip=mountain]');
  await decided(page, 'home-hero', 'mountain');

  await server.resume();
  const rules = demoRules();
  rules.slots.find((s) => s.id === 'home-offer').variants
    .find((v) => v.id === 'mountain-offer').text = 'Back online: 7 nights in Zermatt';
  await pushRules(server, rules);
  // Retries come at most 2 s, 4 s, 8 s apart: the page is back well within 15 s.
  await page.waitForFunction(() => document.querySelector('[data-tailor-slot=home-offer]').textContent.startsWith('Back online'),
    null, { timeout: 15000 });
  const last = sockets[sockets.length - 1];
  assert.ok(last.hello, 'the new socket said hello');
  // Full jitter, but never at once: every retry waited at least half a second after the previous socket closed.
  for (let i = 1; i < sockets.length; i++) {
    assert.ok(sockets[i].opened - sockets[i - 1].closed >= 450, `retry ${i} came ${sockets[i].opened - sockets[i - 1].closed} ms after the close`);
  }
  await context.close();
});
