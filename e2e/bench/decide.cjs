// Times deciding every slot of a page in Node (V8), two ways over the same rule set and attributes:
// the built tailor.wasm through web/static/tailor.js's own WASI shim and codec, and the GrowthBook
// JavaScript SDK evaluating the same targeting conditions as features. Run by e2e/bench (js_figures.go),
// which writes the input and checks that both chose the same variant for every slot.
//
//   node decide.cjs INPUT.json
'use strict';
const fs = require('fs');
const path = require('path');
const { GrowthBook } = require('@growthbook/growthbook');
const tailor = require(path.join(__dirname, '..', '..', 'web', 'static', 'tailor.js'));

const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const b64 = (s) => new Uint8Array(Buffer.from(s, 'base64'));

// Runs fn at least min times and then until ms have passed (at most max times); mean microseconds.
function time(fn, min, max, ms) {
  const start = process.hrtime.bigint();
  let n = 0;
  for (; n < max && (n < min || Number(process.hrtime.bigint() - start) / 1e6 < ms); n++) fn(n);
  return Number(process.hrtime.bigint() - start) / 1e3 / n;
}

(async () => {
  await tailor.load(fs.readFileSync(input.wasm));
  tailor.call('load_rules', b64(input.rules));
  tailor.call('restore', b64(input.restore));
  for (const ev of input.events) tailor.call('event', b64(ev));
  const page = b64(input.page);
  const tailorChoice = {};
  for (const d of tailor.decDecisions(tailor.call('decide', page)).decisions) tailorChoice[d.slot] = d.variant;

  const gb = new GrowthBook({ attributes: input.attributes, features: input.features });
  const ids = Object.keys(input.features);
  const gbChoice = {};
  for (const id of ids) gbChoice[id] = gb.evalFeature(id).value;

  const { min, max, ms } = input.budget;
  const tailorUs = time(() => tailor.decDecisions(tailor.call('decide', page)), min, max, ms);
  const gbUs = time(() => { for (const id of ids) gb.evalFeature(id); }, min, max, ms);
  process.stdout.write(JSON.stringify({ tailor_us: tailorUs, growthbook_us: gbUs, tailor: tailorChoice, growthbook: gbChoice }));
})().catch((e) => { console.error(e); process.exit(1); });
