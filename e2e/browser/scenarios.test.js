// The demo site's six scenarios end to end, each as a new visitor (a fresh browser context), against the
// real server binary; an operator's push changing an open page; the cached decision at DOMContentLoaded.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { startServer, launch, pushRules, demoRules, screenshot, decided } = require('./helpers');

const HOUR = 3600 * 1000;
let server, browser;
test.before(async () => { [server, browser] = await Promise.all([startServer(), launch()]); });
test.after(async () => { await browser?.close(); await server?.stop(); });

// visitor opens a page as a new visitor. With clock, the page's clock is faked so a test can jump days.
async function visitor(path, { clock = false } = {}) {
  const context = await browser.newContext();
  if (clock) await context.clock.install();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.errors = errors;
  await page.goto(server.url + path);
  await page.evaluate(() => tailor.ready);
  return { context, page };
}

const text = (page, sel) => page.locator(sel).first().textContent();

test('display preferences: night mode and font size, applied before the first paint on the next page', async () => {
  const { context, page } = await visitor('/display.html');
  await decided(page, 'display-tip', 'day');
  await page.click('#night');
  await page.waitForFunction(() => document.documentElement.getAttribute('data-pref-theme') === 'dark');
  await decided(page, 'display-tip', 'night');
  await page.locator('#font').evaluate((el) => { el.value = '1.3'; el.dispatchEvent(new Event('change', { bubbles: true })); });
  await page.waitForFunction(() => tailor.prefs().font_scale === 1.3);
  await screenshot(page, 'display');

  // On another page, before any script of the page runs past the head: the preferences are in place.
  // Read as soon as the parser has made <body>: tailor.js ran in <head>, before anything could paint.
  await page.addInitScript(() => {
    const seen = new MutationObserver(() => {
      if (!document.body || window.__early) return;
      const root = document.documentElement;
      window.__early = { theme: root.getAttribute('data-pref-theme'), scale: root.style.getPropertyValue('--tailor-font_scale') };
      seen.disconnect();
    });
    seen.observe(document, { childList: true, subtree: true });
  });
  await page.goto(server.url + '/index.html');
  const early = await page.evaluate(() => window.__early);
  assert.deepEqual(early, { theme: 'dark', scale: '1.3' });
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(21, 23, 26)');
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('search preferences: sort, page size and filters are remembered', async () => {
  const { context, page } = await visitor('/products.html');
  await page.selectOption('select[name=sort]', 'price_asc');
  await page.waitForFunction(() => tailor.prefs().sort === 'price_asc');
  await page.selectOption('select[name=page_size]', '4');
  await page.waitForFunction(() => tailor.prefs().page_size === 4);
  await page.check('input[name=colours][value=red]');
  await page.waitForFunction(() => (tailor.prefs().colours || []).includes('red'));
  await page.locator('input[name=price_max]').evaluate((el) => { el.value = '150'; el.dispatchEvent(new Event('change', { bubbles: true })); });
  await page.waitForFunction(() => tailor.prefs().price_max === 150);

  await page.reload();
  await page.evaluate(() => tailor.ready);
  assert.equal(await page.inputValue('select[name=sort]'), 'price_asc');
  assert.equal(await page.inputValue('select[name=page_size]'), '4');
  assert.ok(await page.isChecked('input[name=colours][value=red]'));
  const cards = await page.locator('#products li').allTextContents();
  assert.ok(cards.length > 0 && cards.length <= 4, `${cards.length} products`);
  const prices = cards.map((c) => Number(/(\d+) €/.exec(c)[1]));
  assert.deepEqual(prices, [...prices].sort((a, b) => a - b));
  assert.ok(prices.every((p) => p <= 150));
  assert.ok(cards.every((c) => c.includes('red')));
  await screenshot(page, 'products');
  await context.close();
});

test('content preferences: topics picked on the first visit filter the feed, editable later', async () => {
  const { context, page } = await visitor('/feed.html');
  await page.waitForSelector('#picker:not([hidden])');
  await page.check('#topic-boxes input[value=tech]');
  await page.check('#topic-boxes input[value=travel]');
  await page.click('#save-topics');
  await page.waitForSelector('#picker[hidden]', { state: 'attached' });
  const visible = async () => page.locator('#feed [data-tailor-item]:not(.filtered):not([hidden])')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-categories')));
  let shown = await visible();
  assert.ok(shown.length > 0);
  assert.ok(shown.every((c) => /tech|travel/.test(c)), shown.join(' | '));

  await page.reload();
  await page.evaluate(() => tailor.ready);
  assert.ok(await page.locator('#picker').isHidden());
  shown = await visible();
  assert.ok(shown.every((c) => /tech|travel/.test(c)));
  // The engine ranks followed topics first.
  const order = await page.locator('#feed [data-tailor-item]').evaluateAll((els) => els.map((e) => e.getAttribute('data-categories')));
  const firstOther = order.findIndex((c) => !/tech|travel/.test(c));
  assert.ok(order.slice(firstOther).every((c) => !/tech|travel/.test(c)), order.join(' | '));

  await page.click('#edit-topics');
  assert.ok(await page.isChecked('#topic-boxes input[value=tech]'));
  await page.uncheck('#topic-boxes input[value=tech]');
  await page.check('#topic-boxes input[value=food]');
  await page.click('#save-topics');
  await page.waitForFunction(() => tailor.prefs().topics.join() === 'food,travel');
  shown = await visible();
  assert.ok(shown.every((c) => /food|travel/.test(c)), shown.join(' | '));
  await screenshot(page, 'feed');
  await context.close();
});

test('sea or mountains: the choice adapts the home page at once and lasts a week', async () => {
  const { context, page } = await visitor('/index.html', { clock: true });
  await decided(page, 'home-hero', 'choose');
  await page.click('[data-trip=sea]');
  await decided(page, 'home-hero', 'sea');
  assert.match(await text(page, '[data-tailor-slot=home-hero] h2'), /by the sea/);
  assert.match(await text(page, '[data-tailor-slot=home-offer]'), /Crete/);
  assert.equal(await page.getAttribute('[data-tailor-slot=home-offer]', 'data-offer'), 'sea');
  assert.match((await page.evaluate(() => tailor.why('home-hero'))).reason, /sea_lover/);
  await screenshot(page, 'index-sea');

  // Six days later: still in the segment.
  await context.clock.setSystemTime(Date.now() + 6 * 24 * HOUR);
  await page.reload();
  await decided(page, 'home-hero', 'sea');
  // Eight days after the choice: the week is over, the home page asks again.
  await context.clock.setSystemTime(Date.now() + 8 * 24 * HOUR);
  await page.reload();
  await decided(page, 'home-hero', 'choose');
  await page.click('[data-trip=mountain]');
  await decided(page, 'home-hero', 'mountain');
  assert.match(await text(page, '[data-tailor-slot=home-hero] h2'), /mountains/);
  await context.close();
});

test('returning readers see articles ranked by their interests', async () => {
  const { context, page } = await visitor('/articles.html', { clock: true });
  await decided(page, 'reco-title', 'popular');
  assert.equal(await text(page, '[data-tailor-slot=reco-title]'), 'Popular right now');
  // Reading stories about Africa, twice: within this first visit the list keeps its popular order, under
  // its "Popular right now" title.
  const popular = await page.evaluate(() => tailor.decisions().reco.items.join(' '));
  await page.click('[data-article=a3] [data-read]');
  await page.click('[data-article=a7] [data-read]');
  // Each read is tracked and the page decided again: the interest is there, the order is not changed.
  for (let i = 0; i < 100 && !((await page.evaluate(() => tailor.export())).interests.africa > 1.5); i++) await page.waitForTimeout(50);
  assert.ok((await page.evaluate(() => tailor.export())).interests.africa > 1.5, 'the reads are recorded');
  assert.equal(await page.evaluate(() => tailor.decisions().reco.items.join(' ')), popular);

  // An hour later is a new visit: the reader is returning.
  await context.clock.setSystemTime(Date.now() + HOUR);
  await page.reload();
  await decided(page, 'reco-title', 'for-you');
  assert.equal(await text(page, '[data-tailor-slot=reco-title]'), 'Recommended for you');
  const reco = await page.locator('#reco [data-tailor-item]:not([hidden])').evaluateAll((els) => els.map((e) => e.getAttribute('data-categories')));
  assert.equal(reco.length, 4);
  assert.match(reco[0], /africa/);
  assert.match(reco[1], /africa/);
  await screenshot(page, 'articles');
  await context.close();
});

test('a likely buyer is offered a test drive of their most-viewed model, at most once a day', async () => {
  const { context, page } = await visitor('/cars.html', { clock: true });
  const actions = [];
  await page.exposeFunction('__action', (a) => actions.push(a));
  await page.evaluate(() => window.addEventListener('tailor:action', (e) => window.__action(e.detail)));
  for (const m of ['yaris', 'corolla', 'yaris', 'rav4', 'yaris']) {
    await page.click(`[data-details=${m}]`);
    await page.waitForTimeout(50);
  }
  assert.equal(actions.length, 0, 'not yet a likely buyer');
  await page.click('[data-details=yaris]');
  await page.waitForSelector('[data-popin=testdrive]');
  assert.match(await text(page, '[data-popin=testdrive] h3'), /Yaris/);
  assert.deepEqual(actions.map((a) => [a.action, a.params.model]), [['testdrive', 'yaris']]);
  await screenshot(page, 'cars');

  // Still a likely buyer the same day: no second pop-in.
  await page.click('[data-popin=testdrive] button:not(.primary)');
  await page.click('[data-details=corolla]');
  await page.reload();
  await page.evaluate(() => tailor.ready);
  await page.waitForTimeout(200);
  assert.equal(await page.locator('[data-popin]').count(), 0);

  // The next day, looking again: offered again.
  await context.clock.setSystemTime(Date.now() + 25 * HOUR);
  await page.reload();
  await page.waitForSelector('[data-popin=testdrive]');
  await context.close();
});

test('an operator pushes a new rule set: the open page changes without a reload', async () => {
  const { context, page } = await visitor('/index.html');
  await decided(page, 'home-offer', 'all-offers');
  await page.evaluate(() => { window.__sameDocument = true; });
  const rules = demoRules();
  const offer = rules.slots.find((s) => s.id === 'home-offer');
  offer.default = { id: 'spring-sale', text: 'Spring sale: 20% off every holiday' };
  await pushRules(server, rules);
  await decided(page, 'home-offer', 'spring-sale');
  assert.equal(await text(page, '[data-tailor-slot=home-offer]'), 'Spring sale: 20% off every holiday');
  assert.equal(await page.evaluate(() => window.__sameDocument), true);

  // A set without the slot: the page's own content comes back, and no stale decision stays cached.
  const without = demoRules();
  without.slots = without.slots.filter((s) => s.id !== 'home-offer');
  await pushRules(server, without);
  await page.waitForFunction(() => !document.querySelector('[data-tailor-slot=home-offer]').hasAttribute('data-tailor-variant'));
  assert.equal(await text(page, '[data-tailor-slot=home-offer]'), 'Our holidays, by the sea and in the mountains.');
  assert.equal(await page.evaluate(() => JSON.parse(localStorage.getItem('tailor:slots'))['home-offer']), undefined);

  // Put the demo set back for the other tests.
  await pushRules(server, demoRules());
  await decided(page, 'home-offer', 'all-offers');
  await context.close();
});

test('after a reload the cached decision is in the DOM at DOMContentLoaded, and the page is never hidden', async () => {
  const { context, page } = await visitor('/index.html');
  await page.click('[data-trip=mountain]');
  await decided(page, 'home-hero', 'mountain');
  await page.addInitScript(() => {
    window.__hidden = [];
    const check = (where) => {
      for (const el of [document.documentElement, document.body]) {
        if (!el) continue;
        const cs = getComputedStyle(el);
        if (cs.visibility === 'hidden' || cs.display === 'none' || cs.opacity === '0' || el.hidden) window.__hidden.push(where + ':' + el.tagName);
      }
    };
    new MutationObserver(() => check('mutation')).observe(document, { attributes: true, subtree: true, attributeFilter: ['style', 'class', 'hidden'] });
    // A window listener runs after tailor.js's document listener for the same event.
    window.addEventListener('DOMContentLoaded', () => {
      check('DOMContentLoaded');
      const slot = document.querySelector('[data-tailor-slot=home-hero]');
      window.__atDCL = { variant: slot.getAttribute('data-tailor-variant'), title: slot.querySelector('h2').textContent, engine: !!tailor.decisions()['home-hero'] };
    });
  });
  // The engine arrives late on purpose, so what the DOM shows at DOMContentLoaded can only be the cache.
  await page.route('**/tailor.wasm', async (route) => {
    const response = await route.fetch();
    await new Promise((r) => setTimeout(r, 500));
    await route.fulfill({ response });
  });
  await page.reload();
  await decided(page, 'home-hero', 'mountain');
  const atDCL = await page.evaluate(() => window.__atDCL);
  assert.equal(atDCL.variant, 'mountain');
  assert.match(atDCL.title, /mountains/);
  assert.equal(atDCL.engine, false, 'the engine had not decided yet: the DOM held the cached decision');
  assert.deepEqual(await page.evaluate(() => window.__hidden), []);
  await context.close();
});
