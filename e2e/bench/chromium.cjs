// Times the first decision in headless Chromium against the real server binary: first visits (a new
// browser context: empty cache and storage) and repeat visits (a reload), from navigation start to the
// slot showing the engine's decision, beside the page's own first contentful paint; and watches whether the
// page was ever hidden to wait for the engine. Run by e2e/bench (browser_figures.go); prints JSON.
//
//   TAILOR_BIN=bin/tailor node chromium.cjs VISITS
'use strict';
const { startServer, launch } = require('../browser/helpers');

// watch runs in the page before its own scripts: it notes when the slot first shows a decision and
// samples, every frame until then, whether the document is hidden (display, visibility or opacity).
function watch() {
  const w = window;
  w.__bench = { shown: undefined, hidden: false };
  const hidden = (el) => {
    if (!el) return false;
    const s = getComputedStyle(el);
    return s.display === 'none' || s.visibility === 'hidden' || Number(s.opacity) === 0;
  };
  const tick = () => {
    if (hidden(document.documentElement) || hidden(document.body)) w.__bench.hidden = true;
    const slot = document.querySelector('[data-tailor-slot="home-welcome"]');
    if (slot && slot.hasAttribute('data-tailor-variant') && w.__bench.shown === undefined) w.__bench.shown = performance.now();
    if (w.__bench.shown === undefined) requestAnimationFrame(tick);
  };
  new MutationObserver(tick).observe(document, { subtree: true, childList: true, attributes: true });
  requestAnimationFrame(tick);
}

async function visit(page, reload) {
  if (reload) await page.reload();
  else await page.goto(page.__url + '/index.html');
  await page.waitForFunction(() => window.__bench && window.__bench.shown !== undefined, null, { timeout: 20000 });
  return page.evaluate(() => {
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    return { shown: window.__bench.shown, fcp: fcp ? fcp.startTime : null, hidden: window.__bench.hidden };
  });
}

(async () => {
  const visits = Number(process.argv[2] || 5);
  const [server, browser] = await Promise.all([startServer(), launch()]);
  const cold = [], repeat = [];
  try {
    for (let i = 0; i < visits; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.__url = server.url;
      await page.addInitScript(watch);
      cold.push(await visit(page, false));
      repeat.push(await visit(page, true));
      await context.close();
    }
  } finally {
    await browser.close();
    await server.stop();
  }
  process.stdout.write(JSON.stringify({ cold, repeat }));
})().catch((e) => { console.error(e); process.exit(1); });
