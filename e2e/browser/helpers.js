// Helpers of the browser tests: start the real server binary, launch Debian's Chromium, watch the /sync
// frames a page sends and walk them in the wire format (shared/wire) to look for what must never leave.
'use strict';

const { spawn } = require('node:child_process');
const http = require('node:http');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const E2E = path.resolve(__dirname, '..');
const BIN = path.resolve(E2E, process.env.TAILOR_BIN || '../bin/tailor');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOTS = path.join(E2E, 'screenshots');

// request makes one HTTP request without keep-alive: fetch's pooled sockets would hold each test process
// open for seconds after its last test.
function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, ok: res.statusCode < 300, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// startServer runs `tailor serve --demo` on a free port with an empty data folder, and waits until it
// answers. The test suite builds nothing: TAILOR_BIN names the binary (default ../bin/tailor).
async function startServer() {
  if (!fs.existsSync(BIN)) throw new Error(`no server binary at ${BIN}: build it (go build -o bin/tailor ./server/cmd/tailor) or set TAILOR_BIN`);
  const port = await freePort();
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-e2e-'));
  const token = 'e2e-' + Math.random().toString(36).slice(2);
  const url = `http://127.0.0.1:${port}`;
  let proc = null;
  let log = '';

  async function run() {
    proc = spawn(BIN, ['serve', '--addr', `127.0.0.1:${port}`, '--data', data, '--demo', '--token', token], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout.on('data', (d) => { log += d; });
    proc.stderr.on('data', (d) => { log += d; });
    const deadline = Date.now() + 10000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`tailor serve exited with ${proc.exitCode}:\n${log}`);
      try {
        const r = await request(url + '/tailor.js');
        if (r.ok) return;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) { proc.kill(); throw new Error(`tailor serve did not answer within 10 s:\n${log}`); }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function halt() {
    if (proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (proc.exitCode === null) { proc.kill('SIGKILL'); await exited; }
  }

  await run();
  return {
    url, token, data, log: () => log,
    // halt stops the server; resume starts it again on the same port with the same data.
    halt,
    resume: run,
    async stop() {
      await halt();
      fs.rmSync(data, { recursive: true, force: true });
    },
  };
}

function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}

// pushRules makes rules the live rule set, as an operator does.
async function pushRules(server, rules) {
  const r = await request(server.url + '/api/rules', {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + server.token, 'Content-Type': 'application/json' },
    body: JSON.stringify(rules),
  });
  if (!r.ok) throw new Error(`POST /api/rules answered ${r.status}: ${r.text}`);
  return r.text;
}

function demoRules() {
  return JSON.parse(fs.readFileSync(path.join(E2E, '..', 'web', 'demo-rules.json'), 'utf8'));
}

// watchFrames records every binary frame the page sends and receives on /sync.
function watchFrames(page) {
  const sent = [];
  const received = [];
  page.on('websocket', (ws) => {
    if (!ws.url().endsWith('/sync')) return;
    ws.on('framesent', (f) => sent.push(Buffer.from(f.payload)));
    ws.on('framereceived', (f) => received.push(Buffer.from(f.payload)));
  });
  return { sent, received };
}

// readFields walks one message of the wire format; it returns null when the bytes are not a message.
function readFields(buf) {
  const out = [];
  let off = 0;
  const varint = () => {
    let v = 0n;
    for (let i = 0; i < 10; i++) {
      if (off >= buf.length) throw new Error('truncated');
      const b = buf[off++];
      v |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return v;
    }
    throw new Error('overflow');
  };
  try {
    while (off < buf.length) {
      const key = varint();
      const field = Number(key >> 3n);
      const type = Number(key & 7n);
      if (field === 0) return null;
      if (type === 0) out.push({ field, type, value: varint() });
      else if (type === 1) {
        if (off + 8 > buf.length) return null;
        out.push({ field, type, value: buf.readDoubleLE(off) });
        off += 8;
      } else if (type === 2) {
        const n = Number(varint());
        if (off + n > buf.length) return null;
        out.push({ field, type, value: buf.subarray(off, off + n) });
        off += n;
      } else return null;
    }
  } catch {
    return null;
  }
  return out;
}

// Frame kinds of shared/frame.
const KIND = { hello: 1, full: 2, delta: 3, upToDate: 4, batch: 5, ack: 6, refused: 7 };

function frameKind(buf) {
  const f = readFields(buf);
  const k = f && f.find((x) => x.field === 1 && x.type === 0);
  return k ? Number(k.value) : 0;
}

// numbers returns every number a message holds, nested messages included, each varint both as written
// and zigzag-decoded, so a timestamp cannot hide in any encoding the wire format allows.
function numbers(buf, acc = []) {
  const fields = readFields(buf);
  if (!fields) return acc;
  for (const f of fields) {
    if (f.type === 0) acc.push(f.value, (f.value >> 1n) ^ -(f.value & 1n));
    else if (f.type === 1) acc.push(f.value);
    else numbers(f.value, acc);
  }
  return acc;
}

async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, name + '.png'), fullPage: true });
}

// decided waits until the engine has decided the slot (the attribute tailor.js writes).
function decided(page, slot, variant) {
  return page.waitForFunction(([s, v]) => {
    const d = window.tailor && window.tailor.decisions()[s];
    return d && (!v || d.variant === v);
  }, [slot, variant], { timeout: 10000 });
}

module.exports = {
  startServer, launch, pushRules, demoRules, watchFrames, readFields, frameKind, numbers, screenshot, decided, KIND,
};
