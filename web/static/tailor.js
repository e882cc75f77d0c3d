/*
 * tailor.js: the one script a site adds. It runs Tailor's engine (tailor.wasm) in the visitor's browser,
 * keeps the engine's state on the device, and talks to the Tailor server over one websocket.
 *
 *   <script src="/tailor.js" data-server="wss://tailor.example.com/sync" data-category="products"></script>
 *
 * Put it in <head>, without async or defer: it applies the saved display preferences before the first
 * paint. Attributes of the tag (all optional):
 *   data-server    the /sync websocket: ws(s)://, http(s):// (then /sync is added) or a path. Default /sync
 *                  on the script's own origin.
 *   data-category  the page's category for page views and rules (else <body data-category>, else "page").
 *   data-consent   "false" until the visitor consents: no behaviour recorded, no counts sent.
 *   data-wasm      where tailor.wasm is. Default: next to tailor.js.
 *
 * Markup it binds:
 *   data-tailor-slot="id"        a slot; the engine's choice shows a <template id=...> the page holds,
 *                                plain text (textContent, never markup) and/or attributes. The chosen variant
 *                                is written to data-tailor-variant.
 *   data-tailor-item="id"        inside a ranked slot, a candidate item; data-categories="a b" its categories.
 *                                Items the engine leaves out get the hidden attribute.
 *   data-tailor-goal="id"        a click on it reports the goal.
 *   <html data-pref-ID="value">  every preference, written by tailor.js for CSS (lists space-separated);
 *                                numbers also as the custom property --tailor-ID.
 *
 * Public API, window.tailor:
 *   tailor.ready                 a promise: the engine runs and has decided the page's slots (on a first
 *                                visit once the server's rule set arrives, or after 5 s without it).
 *   tailor.prefs()               the visitor's preferences, {id: value} (saved values before the engine loads).
 *   tailor.setPref(id, value)    promise; rejects when the rule set does not offer the value.
 *   tailor.track(category)       promise; records a page view (for pages that change without loading) and
 *                                decides the page again.
 *   tailor.goal(id)              promise; records a goal of the rule set.
 *   tailor.declare(name, value)  promise; an attribute the visitor chose to give (empty value removes it).
 *   tailor.why(slot)             {variant, reason, path, arm} of the slot's last decision, or null.
 *   tailor.decisions()           {slot: decision} of this page.
 *   tailor.export()              promise of everything kept about the visitor, as a plain object.
 *   tailor.forget()              promise; erases everything Tailor keeps, on the spot, storage included.
 *   tailor.consent(bool)         promise; the visitor's consent, remembered on this device. It overrides
 *                                data-consent; Global Privacy Control overrides both.
 *   tailor.openPanel()           opens the visitor's panel: what Tailor keeps, with edit, export, forget.
 * Events on window:
 *   tailor:decided  detail {decisions, segments}, each time the page's slots are decided.
 *   tailor:action   detail {trigger, action, params}, when a trigger fires (a pop-in offer, say).
 *
 * Nothing identifying leaves the browser: the seed, the state, the page's URL and title stay here; only the
 * frames the engine makes (its version, rule-set version, anonymous count batches) are sent.
 */
(function () {
  'use strict';
  // Outside a browser (Node, for the benchmarks) only the engine's calls are offered: see the end of the
  // engine-calls section.
  var browser = typeof window !== 'undefined' && typeof document !== 'undefined';
  if (browser && window.tailor) return; // a second copy of the tag: the first one is in charge

  var script = (browser && document.currentScript) || {dataset: {}, src: ''};
  var ds = script.dataset || {};
  var PREFIX = 'tailor:';
  var COUNT_EVERY_MS = 30000;
  var FIRST_RULES_WAIT_MS = 5000;
  var utf8 = new TextEncoder();
  var utf8d = new TextDecoder();

  // ---------------------------------------------------------------- storage
  // localStorage, because display preferences and cached decisions must be read synchronously before the
  // first paint; the engine's snapshot is a few kilobytes, well within its quota.

  var forgotten = false; // after forget, this page writes nothing more
  function load(key) {
    try { return localStorage.getItem(PREFIX + key); } catch (e) { return null; }
  }
  function store(key, value) {
    if (forgotten) return;
    try { localStorage.setItem(PREFIX + key, value); } catch (e) { /* full or blocked: keep running */ }
  }
  function loadJSON(key) {
    try { return JSON.parse(load(key) || 'null'); } catch (e) { return null; }
  }
  function toB64(u8) {
    var s = '';
    for (var i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
    return btoa(s);
  }
  function fromB64(s) {
    if (!s) return null;
    try {
      var bin = atob(s), u8 = new Uint8Array(bin.length);
      for (var i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
      return u8;
    } catch (e) { return null; }
  }
  function eraseStorage() {
    try {
      for (var i = localStorage.length - 1; i >= 0; i--) {
        var k = localStorage.key(i);
        if (k && k.indexOf(PREFIX) === 0) localStorage.removeItem(k);
      }
    } catch (e) { /* blocked storage holds nothing of ours */ }
  }
  function randomHex(bytes) {
    var a = crypto.getRandomValues(new Uint8Array(bytes)), s = '';
    for (var i = 0; i < a.length; i++) s += (a[i] + 0x100).toString(16).slice(1);
    return s;
  }
  // The seed buckets this browser into holdouts and variants; made once, kept here, never sent.
  function seed() {
    var s = load('seed');
    if (!s) { s = randomHex(16); store('seed', s); }
    return s;
  }

  // ---------------------------------------------------------------- wire codec (shared/wire)

  function Writer() { this.parts = []; this.n = 0; }
  Writer.prototype.push = function (u8) { this.parts.push(u8); this.n += u8.length; };
  Writer.prototype.varint = function (v) {
    var b = [];
    if (typeof v === 'bigint') {
      while (v >= 0x80n) { b.push(Number(v & 0x7fn) | 0x80); v >>= 7n; }
      b.push(Number(v));
    } else {
      // Numbers past 2^32 (times in ms, zigzagged) cannot go through bitwise operators.
      while (v >= 0x80) { b.push((v % 0x80) | 0x80); v = Math.floor(v / 0x80); }
      b.push(v);
    }
    this.push(Uint8Array.from(b));
  };
  Writer.prototype.key = function (f, t) { this.varint(f * 8 + t); };
  Writer.prototype.uint = function (f, v) { if (v) { this.key(f, 0); this.varint(v); } };
  Writer.prototype.int = function (f, v) { this.uint(f, v >= 0 ? v * 2 : -v * 2 - 1); };
  Writer.prototype.bool = function (f, v) { if (v) this.uint(f, 1); };
  Writer.prototype.float = function (f, v) {
    if (v === 0 && !Object.is(v, -0)) return;
    var b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.key(f, 1);
    this.push(b);
  };
  Writer.prototype.raw = function (f, u8) { this.key(f, 2); this.varint(u8.length); this.push(u8); };
  Writer.prototype.str = function (f, s) { if (s) this.raw(f, utf8.encode(s)); };
  Writer.prototype.strAlways = function (f, s) { this.raw(f, utf8.encode(s)); };
  Writer.prototype.msg = function (f, fill) { var w = new Writer(); fill(w); this.raw(f, w.bytes()); };
  Writer.prototype.bytes = function () {
    var out = new Uint8Array(this.n), at = 0;
    for (var i = 0; i < this.parts.length; i++) { out.set(this.parts[i], at); at += this.parts[i].length; }
    return out;
  };

  // read calls fn(field, value) for each field of a message: varints as numbers, fixed64 as float64,
  // length-delimited fields as byte views (str() turns them into strings).
  function read(u8, fn) {
    var off = 0;
    function varint() {
      var v = 0, mul = 1;
      for (var i = 0; i < 10; i++) {
        if (off >= u8.length) throw new Error('tailor: truncated message');
        var b = u8[off++];
        v += (b & 0x7f) * mul;
        mul *= 128;
        if (b < 0x80) return v;
      }
      throw new Error('tailor: varint overflow');
    }
    while (off < u8.length) {
      var k = varint(), field = Math.floor(k / 8), type = k % 8, val;
      if (type === 0) val = varint();
      else if (type === 1) {
        if (off + 8 > u8.length) throw new Error('tailor: truncated message');
        val = new DataView(u8.buffer, u8.byteOffset + off, 8).getFloat64(0, true);
        off += 8;
      } else if (type === 2) {
        var n = varint();
        if (off + n > u8.length) throw new Error('tailor: truncated message');
        val = u8.subarray(off, off + n);
        off += n;
      } else throw new Error('tailor: unknown field type');
      fn(field, val);
    }
  }
  function str(v) { return utf8d.decode(v); }
  function readMap(v, m) {
    var k = '', val = '';
    read(v, function (f, x) { if (f === 1) k = str(x); else if (f === 2) val = str(x); });
    m[k] = val;
  }

  // ---------------------------------------------------------------- shared/abi messages

  var EVENT_PAGE_VIEW = 1, EVENT_TIME = 2, EVENT_GOAL = 3, EVENT_DECLARE = 4, EVENT_CONTEXT = 5;

  function encRestore(state, seedStr, now) {
    var w = new Writer();
    if (state) w.raw(1, state);
    w.str(2, seedStr);
    w.int(3, now);
    return w.bytes();
  }
  function encEvent(e) {
    var w = new Writer();
    w.uint(1, e.kind); w.int(2, e.now); w.str(3, e.category); w.str(4, e.path); w.float(5, e.seconds || 0);
    w.str(6, e.goal); w.str(7, e.name); w.str(8, e.value); w.str(9, e.lang); w.int(10, e.tz || 0);
    return w.bytes();
  }
  function encPref(id, value, now) {
    var w = new Writer();
    w.str(1, id);
    w.msg(2, function (w) {
      if (typeof value === 'string') { w.uint(1, 1); w.str(2, value); }
      else if (typeof value === 'number') { w.uint(1, 2); w.float(3, value); }
      else if (Array.isArray(value)) { w.uint(1, 3); value.forEach(function (s) { w.strAlways(4, String(s)); }); }
      else if (typeof value === 'boolean') { w.uint(1, 4); w.bool(5, value); }
    });
    w.int(3, now);
    return w.bytes();
  }
  function encPage(now, category, path, slots) {
    var w = new Writer();
    w.int(1, now); w.str(2, category); w.str(3, path);
    slots.forEach(function (s) {
      w.msg(4, function (w) {
        w.str(1, s.slot);
        (s.items || []).forEach(function (it) {
          w.msg(2, function (w) {
            w.strAlways(1, it.id);
            it.categories.forEach(function (c) { w.strAlways(2, c); });
          });
        });
      });
    });
    return w.bytes();
  }
  function encTake(batchID, now) { var w = new Writer(); w.uint(1, batchID); w.int(2, now); return w.bytes(); }
  function encBytes(data, now, seedStr) {
    var w = new Writer();
    if (data) w.raw(1, data);
    w.int(2, now); w.str(3, seedStr);
    return w.bytes();
  }
  function decDecisions(u8) {
    var out = {decisions: [], actions: [], segments: []};
    read(u8, function (f, v) {
      if (f === 1) {
        var d = {slot: '', variant: '', template: '', text: '', attrs: {}, arm: 0, reason: '', path: '', items: null};
        read(v, function (f, x) {
          switch (f) {
            case 1: d.slot = str(x); break;
            case 2: d.variant = str(x); break;
            case 3: d.template = str(x); break;
            case 4: d.text = str(x); break;
            case 5: readMap(x, d.attrs); break;
            case 6: d.arm = x; break;
            case 7: d.reason = str(x); break;
            case 8: d.path = str(x); break;
            case 9: (d.items = d.items || []).push(str(x)); break;
          }
        });
        out.decisions.push(d);
      } else if (f === 2) {
        var a = {trigger: '', action: '', params: {}};
        read(v, function (f, x) {
          if (f === 1) a.trigger = str(x);
          else if (f === 2) a.action = str(x);
          else if (f === 3) readMap(x, a.params);
        });
        out.actions.push(a);
      } else if (f === 3) out.segments.push(str(v));
    });
    return out;
  }
  function decSyncReply(u8) {
    var r = {send: null, changed: false, version: 0, rules: null};
    read(u8, function (f, v) {
      if (f === 1) r.send = v.slice();
      else if (f === 2) r.changed = v !== 0;
      else if (f === 3) r.version = v;
      else if (f === 4) r.rules = v.slice();
    });
    return r;
  }
  // The preferences a rule set offers (shared/rules codec, field 12), for the panel's edit controls.
  function decPrefDefs(compact) {
    var defs = [];
    if (!compact) return defs;
    try {
      read(compact, function (f, v) {
        if (f !== 12) return;
        var p = {id: '', group: '', kind: '', values: [], min: 0, max: 0, step: 0};
        read(v, function (f, x) {
          switch (f) {
            case 1: p.id = str(x); break;
            case 2: p.group = str(x); break;
            case 3: p.kind = str(x); break;
            case 4: p.values.push(str(x)); break;
            case 5: p.min = x; break;
            case 6: p.max = x; break;
            case 7: p.step = x; break;
          }
        });
        defs.push(p);
      });
    } catch (e) { /* a set the cache mangled: no edit controls */ }
    return defs;
  }

  // ---------------------------------------------------------------- WASI shim
  // Exactly the wasi_snapshot_preview1 imports Go's wasip1 runtime makes. The engine core reads no clock and
  // no randomness; the runtime wants them for its scheduler and its map hash seeds.

  var ESUCCESS = 0, EBADF = 8, EINVAL = 28;

  function WasiExit(code) { this.code = code; }

  function wasi(mem) {
    function view() { return new DataView(mem().buffer); }
    var lines = {1: '', 2: ''};
    return {
      args_sizes_get: function (argc, bufSize) { var v = view(); v.setUint32(argc, 0, true); v.setUint32(bufSize, 0, true); return ESUCCESS; },
      args_get: function () { return ESUCCESS; },
      environ_sizes_get: function (n, bufSize) { var v = view(); v.setUint32(n, 0, true); v.setUint32(bufSize, 0, true); return ESUCCESS; },
      environ_get: function () { return ESUCCESS; },
      clock_time_get: function (id, precision, out) {
        var ns;
        if (id === 0) ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
        else if (id === 1) ns = BigInt(Math.round(performance.now() * 1e6));
        else return EINVAL;
        view().setBigUint64(out, ns, true);
        return ESUCCESS;
      },
      random_get: function (buf, len) {
        // getRandomValues fills at most 65536 bytes per call.
        for (var off = 0; off < len; off += 65536) {
          crypto.getRandomValues(new Uint8Array(mem().buffer, buf + off, Math.min(65536, len - off)));
        }
        return ESUCCESS;
      },
      fd_write: function (fd, iovs, iovsLen, nwritten) {
        if (fd !== 1 && fd !== 2) return EBADF;
        var v = view(), total = 0, text = '';
        for (var i = 0; i < iovsLen; i++) {
          var ptr = v.getUint32(iovs + i * 8, true), len = v.getUint32(iovs + i * 8 + 4, true);
          text += utf8d.decode(new Uint8Array(mem().buffer, ptr, len));
          total += len;
        }
        // Go writes a panic message in pieces: print whole lines.
        var all = lines[fd] + text, nl = all.lastIndexOf('\n');
        if (nl >= 0) { (fd === 1 ? console.log : console.error)('tailor.wasm: ' + all.slice(0, nl)); all = all.slice(nl + 1); }
        lines[fd] = all;
        v.setUint32(nwritten, total, true);
        return ESUCCESS;
      },
      // The browser's main thread cannot block. Go sleeps through poll_oneoff only between calls the host
      // makes (the engine starts no goroutine), so clock subscriptions are answered as already elapsed and
      // anything else as a bad descriptor.
      poll_oneoff: function (inPtr, outPtr, nsubs, nevents) {
        var v = view();
        for (var i = 0; i < nsubs; i++) {
          var sub = inPtr + i * 48, ev = outPtr + i * 32, tag = v.getUint8(sub + 8);
          v.setBigUint64(ev, v.getBigUint64(sub, true), true);
          v.setUint16(ev + 8, tag === 0 ? ESUCCESS : EBADF, true);
          v.setUint8(ev + 10, tag);
          v.setBigUint64(ev + 16, 0n, true);
          v.setUint16(ev + 24, 0, true);
        }
        v.setUint32(nevents, nsubs, true);
        return ESUCCESS;
      },
      sched_yield: function () { return ESUCCESS; },
      proc_exit: function (code) { throw new WasiExit(code); }
    };
  }

  // instantiate loads the engine from a URL, or from its bytes when given them (in Node).
  async function instantiate(url) {
    var exports;
    var imports = {wasi_snapshot_preview1: wasi(function () { return exports.memory; })};
    if (typeof url !== 'string') {
      exports = (await WebAssembly.instantiate(url, imports)).instance.exports;
      exports._initialize();
      return exports;
    }
    var r = await fetch(url, {credentials: 'omit'});
    if (!r.ok) throw new Error('tailor: ' + url + ' answered ' + r.status);
    var inst;
    // instantiateStreaming compiles while the bytes arrive but insists on Content-Type application/wasm; a
    // server that says otherwise still serves the right bytes.
    if ((r.headers.get('Content-Type') || '').indexOf('application/wasm') === 0) {
      inst = (await WebAssembly.instantiateStreaming(r, imports)).instance;
    } else {
      inst = (await WebAssembly.instantiate(await r.arrayBuffer(), imports)).instance;
    }
    exports = inst.exports;
    exports._initialize();
    return exports;
  }

  // ---------------------------------------------------------------- engine calls (wasm/main.go ABI)

  var ex = null; // the engine's exports, once loaded

  function call(name, input) {
    var ptr = 0, len = input ? input.length : 0;
    if (len) {
      ptr = ex.tailor_alloc(len) >>> 0;
      new Uint8Array(ex.memory.buffer, ptr, len).set(input);
    }
    var status = ex['tailor_' + name](ptr, len);
    var rp = ex.tailor_result_ptr() >>> 0, rl = ex.tailor_result_len() >>> 0;
    var out = rl ? new Uint8Array(ex.memory.buffer, rp, rl).slice() : new Uint8Array(0);
    if (status !== 0) throw new Error('tailor ' + name + ': ' + utf8d.decode(out));
    return out;
  }
  function save() { if (ex) store('state', toB64(call('snapshot'))); }

  if (!browser) {
    // Node: the benchmarks drive the engine through this very shim and codec, with no page to bind.
    module.exports = {
      load: async function (bytes) { ex = await instantiate(bytes); },
      call: call,
      encRestore: encRestore, encEvent: encEvent, encPage: encPage, decDecisions: decDecisions
    };
    return;
  }

  // ---------------------------------------------------------------- page state

  var cfg = {
    server: serverURL(ds.server),
    wasm: ds.wasm || (script.src ? new URL('tailor.wasm', script.src).href : '/tailor.wasm'),
    category: ds.category || ''
  };
  var haveRules = false;
  var compact = fromB64(load('rules'));
  var current = {}; // slot -> last decision on this page
  var segments = [];
  var cachedPrefs = loadJSON('prefs') || {};
  var domReady = new Promise(function (ok) {
    if (document.readyState !== 'loading') ok();
    else document.addEventListener('DOMContentLoaded', function () { ok(); }, {once: true});
  });

  function serverURL(s) {
    var base = script.src ? new URL(script.src) : new URL(location.href);
    var u = new URL(s || '/sync', base);
    if (u.protocol === 'http:' || u.protocol === 'https:') {
      if (s && /^https?:/.test(s) && (u.pathname === '/' || u.pathname === '')) u.pathname = '/sync';
      u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    }
    return u.href;
  }
  function category() {
    return cfg.category || (document.body && document.body.dataset.category) || 'page';
  }
  function consented() {
    if (navigator.globalPrivacyControl === true) return false;
    var c = load('consent');
    if (c === '1' || c === '0') return c === '1';
    return ds.consent !== 'false';
  }
  function emit(name, detail) { window.dispatchEvent(new CustomEvent(name, {detail: detail})); }

  // ---------------------------------------------------------------- DOM binding

  var appliedPrefs = [];
  // Preferences become attributes of <html> so a site's CSS styles them; run before the first paint.
  function applyPrefs(p) {
    var root = document.documentElement;
    appliedPrefs.forEach(function (id) {
      if (!(id in p)) { root.removeAttribute('data-pref-' + id); root.style.removeProperty('--tailor-' + id); }
    });
    appliedPrefs = [];
    Object.keys(p).forEach(function (id) {
      if (!/^[a-z0-9_-]+$/i.test(id)) return; // not a valid attribute name: CSS cannot use it anyway
      var v = p[id];
      if (typeof v === 'number') root.style.setProperty('--tailor-' + id, String(v));
      root.setAttribute('data-pref-' + id, Array.isArray(v) ? v.join(' ') : String(v));
      appliedPrefs.push(id);
    });
  }
  applyPrefs(cachedPrefs);

  var ORIGINAL = typeof Symbol === 'function' ? Symbol('tailor') : '__tailor';

  // safeAttr mirrors the rule-set compiler's check: a rule set never carries code, and a cached decision
  // from storage is checked again before it reaches the DOM.
  var URL_ATTRS = /^(href|src|action|formaction|poster|srcset|cite|data|background|ping|xlink:href|manifest)$/;
  function safeAttr(k, v) {
    var lk = k.toLowerCase();
    v = String(v);
    if (lk === '' || lk.indexOf('on') === 0 || lk === 'style' || lk === 'srcdoc' || /[\s<>"'=\/]/.test(lk)) return false;
    if (/[\u0000-\u001f\u007f]/.test(v)) return false; // browsers drop tabs and newlines inside URLs
    var m = /^([a-z][a-z0-9+.\-]*):/.exec(v.replace(/^ +/, '').toLowerCase());
    var scheme = m ? m[1] : '';
    if (scheme === 'javascript' || scheme === 'data' || scheme === 'vbscript') return false;
    return scheme === '' || /^(https?|mailto|tel)$/.test(scheme) || !URL_ATTRS.test(lk);
  }

  function slotElements() { return document.querySelectorAll('[data-tailor-slot]'); }
  function itemsOf(el) {
    return Array.prototype.filter.call(el.querySelectorAll('[data-tailor-item]'), function (it) {
      return it.closest('[data-tailor-slot]') === el;
    });
  }

  function applyDecision(el, d) {
    var orig = el[ORIGINAL];
    if (!orig) orig = el[ORIGINAL] = {nodes: null, attrs: {}};
    if (d.template || d.text) {
      if (!orig.nodes) orig.nodes = Array.prototype.map.call(el.childNodes, function (n) { return n.cloneNode(true); });
      var t = d.template && document.getElementById(d.template);
      if (t && t.tagName === 'TEMPLATE') el.replaceChildren(t.content.cloneNode(true));
      else if (d.text) el.textContent = d.text;
    } else if (orig.nodes) {
      el.replaceChildren.apply(el, orig.nodes.map(function (n) { return n.cloneNode(true); }));
      orig.nodes = null;
    }
    // Attributes: put back what an earlier decision changed, then set this one's.
    Object.keys(orig.attrs).forEach(function (k) {
      if (orig.attrs[k] === null) el.removeAttribute(k); else el.setAttribute(k, orig.attrs[k]);
    });
    orig.attrs = {};
    Object.keys(d.attrs || {}).forEach(function (k) {
      if (!safeAttr(k, d.attrs[k])) return;
      orig.attrs[k] = el.getAttribute(k);
      el.setAttribute(k, d.attrs[k]);
    });
    if (d.items) rankItems(el, d.items);
    el.setAttribute('data-tailor-variant', d.variant);
  }

  function rankItems(el, order) {
    var byID = {};
    itemsOf(el).forEach(function (it) { byID[it.getAttribute('data-tailor-item')] = it; });
    var shown = {};
    order.forEach(function (id) {
      var it = byID[id];
      if (!it) return;
      shown[id] = true;
      it.parentNode.appendChild(it);
      if (it.hasAttribute('data-tailor-hidden')) { it.hidden = false; it.removeAttribute('data-tailor-hidden'); }
    });
    // Only items this script hid are shown again: the page may hide items for reasons of its own.
    Object.keys(byID).forEach(function (id) {
      var it = byID[id];
      if (!shown[id] && !it.hidden) { it.hidden = true; it.setAttribute('data-tailor-hidden', ''); }
    });
  }

  // The previous page's decisions, shown at DOMContentLoaded while the engine loads: no flicker, and the
  // page is never hidden to wait for it.
  function applyCached() {
    var cache = loadJSON('slots') || {};
    Array.prototype.forEach.call(slotElements(), function (el) {
      var id = el.getAttribute('data-tailor-slot'), d = cache[id];
      // An engine that was faster than the parser has decided already: its answer wins over the cache.
      if (d && typeof d.variant === 'string' && !current[id]) {
        try { applyDecision(el, d); } catch (e) { /* a stale cache entry: the engine decides shortly */ }
      }
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', applyCached, {once: true});
  else applyCached();

  function slotRequests() {
    return Array.prototype.map.call(slotElements(), function (el) {
      var items = itemsOf(el).map(function (it) {
        return {
          id: it.getAttribute('data-tailor-item'),
          categories: (it.getAttribute('data-categories') || '').split(/[\s,]+/).filter(Boolean)
        };
      });
      return {slot: el.getAttribute('data-tailor-slot'), items: items};
    });
  }

  // decidePage asks the engine for every slot of the page, applies the answers and performs the actions.
  function decidePage() {
    if (!ex || !haveRules) return;
    // A page with no slot still evaluates segments and fires triggers.
    var req = slotRequests();
    var out;
    try {
      out = decDecisions(call('decide', encPage(Date.now(), category(), location.pathname, req)));
    } catch (e) { console.warn(e.message); return; }
    var cache = loadJSON('slots') || {};
    var els = {};
    Array.prototype.forEach.call(slotElements(), function (el) { els[el.getAttribute('data-tailor-slot')] = el; });
    current = {};
    out.decisions.forEach(function (d) {
      current[d.slot] = d;
      if (els[d.slot]) applyDecision(els[d.slot], d);
      cache[d.slot] = {variant: d.variant, template: d.template, text: d.text, attrs: d.attrs, items: d.items};
    });
    // A slot the rule set no longer has shows the page's own content again, and is not cached any more.
    Object.keys(els).forEach(function (id) {
      if (current[id]) return;
      delete cache[id];
      if (els[id][ORIGINAL]) {
        applyDecision(els[id], {variant: '', attrs: {}});
        els[id].removeAttribute('data-tailor-variant');
        itemsOf(els[id]).forEach(function (it) {
          if (it.hasAttribute('data-tailor-hidden')) { it.hidden = false; it.removeAttribute('data-tailor-hidden'); }
        });
      }
    });
    segments = out.segments;
    store('slots', JSON.stringify(cache));
    refreshPrefs();
    save();
    emit('tailor:decided', {decisions: api.decisions(), segments: segments.slice()});
    out.actions.forEach(function (a) { emit('tailor:action', a); });
    countsSoon();
  }

  function refreshPrefs() {
    if (!ex) return;
    try { cachedPrefs = JSON.parse(utf8d.decode(call('prefs'))); } catch (e) { return; }
    store('prefs', JSON.stringify(cachedPrefs));
    applyPrefs(cachedPrefs);
  }

  function record(e) {
    e.now = Date.now();
    call('event', encEvent(e));
    save();
  }

  // ---------------------------------------------------------------- visible time (Page Visibility API)

  var visibleSince = document.visibilityState === 'visible' ? performance.now() : null;
  function flushTime() {
    if (visibleSince === null || !ex) return;
    var s = (performance.now() - visibleSince) / 1000;
    visibleSince = document.visibilityState === 'visible' ? performance.now() : null;
    if (s < 1 || !consented()) return;
    try { record({kind: EVENT_TIME, category: category(), seconds: Math.min(s, 86400)}); } catch (e) { /* ignore */ }
  }
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'hidden') { flushTime(); sendCounts(); } else visibleSince = performance.now();
  });
  window.addEventListener('pagehide', function () { flushTime(); sendCounts(); });

  // ---------------------------------------------------------------- sync

  var ws = null, attempt = 0, healthy = null, countTimer = null;
  // Counts go out shortly after something produced them, in one batch rather than one frame per change.
  function countsSoon() {
    clearTimeout(countTimer);
    countTimer = setTimeout(sendCounts, 1000);
  }
  function randomBatchID() {
    var a = crypto.getRandomValues(new BigUint64Array(1));
    return a[0] || 1n;
  }
  // sendCounts hands the server the engine's pending counts. The engine keeps a batch until the server's
  // Ack for it comes back through tailor_sync, and sends the same batch again until then.
  function sendCounts() {
    if (!ex || !ws || ws.readyState !== 1 || !consented()) return;
    try {
      var b = call('take_counts', encTake(randomBatchID(), Date.now()));
      if (b.length) ws.send(b);
      save();
    } catch (e) { console.warn(e.message); }
  }
  setInterval(sendCounts, COUNT_EVERY_MS);

  var broken = false; // the engine did not start: stop reconnecting
  function connect() {
    if (broken) return;
    var sock;
    try { sock = new WebSocket(cfg.server); } catch (e) { return retry(); }
    ws = sock;
    sock.binaryType = 'arraybuffer';
    // The socket opens while the engine compiles; the engine speaks first, once it runs.
    sock.onopen = function () {
      engineP.then(function () { if (sock.readyState === 1) sock.send(call('hello')); });
      // The backoff starts over only after a minute of healthy connection, so a server that accepts and
      // drops does not bring every browser back at once.
      healthy = setTimeout(function () { attempt = 0; }, 60000);
    };
    sock.onmessage = function (m) {
      if (typeof m.data === 'string') return;
      var data = new Uint8Array(m.data);
      engineP.then(function () { onFrame(sock, data); });
    };
    sock.onclose = function () {
      clearTimeout(healthy);
      if (ws === sock) { ws = null; retry(); }
    };
  }
  // Exponential backoff with full jitter over [0.5 s, cap]: never at once, never all together, at most 30 s.
  function retry() {
    var cap = Math.min(30000, 2000 * Math.pow(2, attempt));
    attempt++;
    setTimeout(connect, 500 + Math.random() * (cap - 500));
  }
  var firstRules = null; // resolves the first time a rule set is in force
  var firstRulesP = new Promise(function (ok) { firstRules = ok; });
  function onFrame(sock, data) {
    var r;
    try { r = decSyncReply(call('sync', encBytes(data, Date.now()))); } catch (e) { console.warn(e.message); return; }
    if (r.send && r.send.length && sock.readyState === 1) sock.send(r.send);
    if (r.changed && r.rules) {
      compact = r.rules;
      store('rules', toB64(r.rules));
      haveRules = true;
      decidePage();
      firstRules();
    }
    save();
    countsSoon();
  }

  // ---------------------------------------------------------------- boot

  async function boot() {
    ex = await instantiate(cfg.wasm);
    var now = Date.now();
    try {
      call('restore', encRestore(fromB64(load('state')), seed(), now));
    } catch (e) {
      // A corrupt state, or one from a newer engine (a cached old tailor.wasm): the engine says so and
      // has started fresh from the seed.
      console.warn(e.message);
    }
    if (compact) {
      try { call('load_rules', compact); haveRules = true; } catch (e) { compact = null; }
    }
    call('consent', encBytes(new Uint8Array([consented() ? 1 : 0]), now));
    var tz = -new Date().getTimezoneOffset();
    try {
      call('event', encEvent({kind: EVENT_CONTEXT, now: now, lang: (navigator.language || '').split('-')[0], tz: tz}));
    } catch (e) { /* out-of-range offset: no context */ }
    await domReady;
    record({kind: EVENT_PAGE_VIEW, category: category(), path: location.pathname});
    if (haveRules) { decidePage(); firstRules(); }
    refreshPrefs();
  }
  var engineP = boot();
  engineP.catch(function () { broken = true; if (ws) ws.close(); });
  connect();
  // ready waits for the page's first decision too, but never more than FIRST_RULES_WAIT_MS for a server.
  var ready = engineP.then(function () {
    return Promise.race([firstRulesP, new Promise(function (ok) { setTimeout(ok, FIRST_RULES_WAIT_MS); })]);
  }).then(function () { return api; });
  ready.catch(function (e) { console.error('tailor: the engine did not start: ' + (e && e.message || e)); });
  function withEngine(fn) { return engineP.then(function () { return fn(); }); }

  document.addEventListener('click', function (e) {
    var el = e.target && e.target.closest && e.target.closest('[data-tailor-goal]');
    if (el) api.goal(el.getAttribute('data-tailor-goal')).catch(function (err) { console.warn(err.message); });
  });

  // ---------------------------------------------------------------- public API

  var api = {
    ready: ready,
    prefs: function () {
      return JSON.parse(JSON.stringify(cachedPrefs));
    },
    setPref: function (id, value) {
      return withEngine(function () {
        call('set_pref', encPref(id, value, Date.now()));
        save();
        refreshPrefs();
        decidePage();
        return api.prefs();
      });
    },
    track: function (cat) {
      return withEngine(function () {
        record({kind: EVENT_PAGE_VIEW, category: String(cat), path: location.pathname});
        decidePage();
      });
    },
    goal: function (id) {
      return withEngine(function () { record({kind: EVENT_GOAL, goal: String(id)}); countsSoon(); });
    },
    declare: function (name, value) {
      return withEngine(function () {
        record({kind: EVENT_DECLARE, name: String(name), value: value == null ? '' : String(value)});
        decidePage();
      });
    },
    why: function (slot) {
      var d = current[slot];
      return d ? {variant: d.variant, reason: d.reason, path: d.path, arm: d.arm === 2 ? 'holdout' : 'personalized'} : null;
    },
    decisions: function () {
      var out = {};
      Object.keys(current).forEach(function (k) {
        var d = current[k];
        out[k] = {variant: d.variant, reason: d.reason, path: d.path, arm: d.arm === 2 ? 'holdout' : 'personalized',
          items: d.items ? d.items.slice() : null};
      });
      return out;
    },
    export: function () {
      return withEngine(function () {
        var data = JSON.parse(utf8d.decode(call('export', encBytes(null, Date.now()))));
        data.slots = api.decisions();
        return data;
      });
    },
    forget: function () {
      return withEngine(function () {
        call('forget', encBytes(null, Date.now(), randomHex(16)));
        // Nothing more is written from this page: the next page starts from nothing, with a new seed.
        forgotten = true;
        eraseStorage();
        decidePage();
        refreshPrefs();
      });
    },
    consent: function (ok) {
      store('consent', ok ? '1' : '0');
      return withEngine(function () {
        call('consent', encBytes(new Uint8Array([consented() ? 1 : 0]), Date.now()));
        save();
      });
    },
    openPanel: function () { return withEngine(openPanel); }
  };
  window.tailor = api;

  // ---------------------------------------------------------------- the visitor's panel

  function h(tag, props, kids) {
    var el = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      if (k === 'text') el.textContent = props[k];
      else if (k.indexOf('on') === 0) el.addEventListener(k.slice(2), props[k]);
      else el.setAttribute(k, props[k]);
    });
    (kids || []).forEach(function (c) { if (c) el.appendChild(c); });
    return el;
  }

  var PANEL_CSS = ':host{all:initial}' +
    '.p{position:fixed;z-index:2147483647;top:0;right:0;bottom:0;width:min(26rem,100%);overflow:auto;' +
    'background:#fff;color:#222;font:14px/1.45 system-ui,sans-serif;box-shadow:-4px 0 24px rgba(0,0,0,.25);padding:1rem 1.2rem}' +
    'h2{font-size:1.15rem;margin:0 0 .3rem}h3{font-size:.95rem;margin:1.1rem 0 .4rem}' +
    'small,.m{color:#666}ul{margin:0;padding-left:1.1rem}li{margin:.15rem 0}' +
    'label{display:block;margin:.3rem 0}button{font:inherit;margin:.6rem .4rem 0 0;padding:.35rem .8rem;cursor:pointer}' +
    '.x{position:absolute;top:.4rem;right:.6rem;margin:0}.danger{background:#b3261e;color:#fff;border:0}';

  var panelHost = null;
  async function openPanel() {
    if (panelHost) panelHost.remove();
    panelHost = h('div', {'data-tailor-panel': ''});
    var root = panelHost.attachShadow({mode: 'open'});
    root.appendChild(h('style', {text: PANEL_CSS}));
    var body = h('div', {class: 'p', role: 'dialog', 'aria-label': 'What this site keeps about you'});
    root.appendChild(body);
    document.body.appendChild(panelHost);
    await renderPanel(body);
    return panelHost;
  }
  function closePanel() { if (panelHost) { panelHost.remove(); panelHost = null; } }

  async function renderPanel(body) {
    var data = await api.export();
    var prefs = api.prefs();
    body.replaceChildren(
      h('button', {class: 'x', text: '×', 'aria-label': 'Close', onclick: closePanel}),
      h('h2', {text: 'What this site keeps about you'}),
      h('small', {text: 'All of it stays in this browser. The site only ever receives anonymous counts' +
        (data.consent ? '.' : ', and none at all while you have not consented.')}),
      h('h3', {text: 'Your preferences'}),
      prefControls(prefs, body),
      h('h3', {text: 'Interests'}),
      list(Object.keys(data.interests || {}).sort(function (a, b) { return data.interests[b] - data.interests[a]; })
        .slice(0, 12).map(function (k) { return k + ': ' + data.interests[k].toFixed(2); }), 'none yet'),
      h('h3', {text: 'Segments'}),
      list((data.segments || []).map(function (s) { return s.id + ': ' + s.reason; }), 'none'),
      h('h3', {text: 'On this page'}),
      list(Object.keys(data.slots).map(function (k) {
        var d = data.slots[k];
        return k + ' shows ' + d.variant + ' (' + d.arm + '): ' + d.reason;
      }), 'no personalized slot'),
      h('div', {}, [
        h('button', {text: 'Export (JSON)', onclick: function () { download(data); }}),
        h('button', {class: 'danger', text: 'Forget everything', onclick: function () {
          api.forget().then(function () { renderPanel(body); });
        }}),
        h('button', {text: data.consent ? 'Stop recording my visits' : 'Allow recording my visits', onclick: function () {
          api.consent(!data.consent).then(function () { renderPanel(body); });
        }})
      ])
    );
  }

  function list(lines, empty) {
    if (!lines.length) return h('p', {class: 'm', text: empty});
    return h('ul', {}, lines.map(function (t) { return h('li', {text: t}); }));
  }

  function prefControls(prefs, body) {
    var defs = decPrefDefs(compact);
    if (!defs.length) return h('p', {class: 'm', text: 'This site offers no preferences.'});
    function set(id, v) {
      api.setPref(id, v).then(function () { renderPanel(body); }, function (e) { console.warn(e.message); });
    }
    return h('div', {}, defs.map(function (p) {
      var v = prefs[p.id], name = p.id.replace(/_/g, ' ');
      if (p.kind === 'enum') {
        var sel = h('select', {onchange: function () { set(p.id, sel.value); }},
          [v === undefined ? h('option', {text: '(not chosen)', value: ''}) : null].concat(p.values.map(function (x) {
            var o = h('option', {text: x, value: x});
            if (x === v) o.selected = true;
            return o;
          })));
        return h('label', {text: name + ' '}, [sel]);
      }
      if (p.kind === 'number') {
        var r = h('input', {type: 'range', min: String(p.min), max: String(p.max), step: String(p.step || 'any'),
          value: String(v === undefined ? p.min : v), onchange: function () { set(p.id, Number(r.value)); }});
        return h('label', {text: name + ' (' + (v === undefined ? 'not chosen' : v) + ') '}, [r]);
      }
      if (p.kind === 'bool') {
        var c = h('input', {type: 'checkbox', onchange: function () { set(p.id, c.checked); }});
        c.checked = v === true;
        return h('label', {}, [c, document.createTextNode(' ' + name)]);
      }
      var chosen = Array.isArray(v) ? v : [];
      return h('fieldset', {}, [h('legend', {text: name})].concat(p.values.map(function (x) {
        var cb = h('input', {type: 'checkbox', onchange: function () {
          set(p.id, cb.checked ? chosen.concat([x]) : chosen.filter(function (y) { return y !== x; }));
        }});
        cb.checked = chosen.indexOf(x) >= 0;
        return h('label', {}, [cb, document.createTextNode(' ' + x)]);
      })));
    }));
  }

  function download(data) {
    var url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], {type: 'application/json'}));
    var a = h('a', {href: url, download: 'tailor-export.json'});
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }
})();
