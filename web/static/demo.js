// The demo site's shared behaviour: the current page in the header, the visitor's panel button, the
// sea/mountain choice buttons, and the test-drive pop-in the rule set's trigger asks for.
(function () {
  'use strict';
  var MODELS = {yaris: 'Yaris', corolla: 'Corolla', rav4: 'RAV4', chr: 'C-HR'};

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('header.site nav a').forEach(function (a) {
      if (a.pathname === location.pathname || (location.pathname === '/' && a.pathname === '/index.html')) {
        a.setAttribute('aria-current', 'page');
      }
    });
  });

  document.addEventListener('click', function (e) {
    var t = e.target.closest('[data-demo-panel], [data-trip]');
    if (!t) return;
    if (t.hasAttribute('data-demo-panel')) tailor.openPanel();
    else tailor.setPref('trip', t.getAttribute('data-trip'));
  });

  // The trigger's parameters are plain strings; the pop-in is built here and fills them in as text.
  window.addEventListener('tailor:action', function (e) {
    if (e.detail.action !== 'testdrive') return;
    var old = document.querySelector('.popin');
    if (old) old.remove();
    var model = MODELS[e.detail.params.model] || e.detail.params.model;
    var box = document.createElement('aside');
    box.className = 'card popin';
    box.setAttribute('role', 'dialog');
    box.setAttribute('data-popin', 'testdrive');
    var h = document.createElement('h3');
    h.textContent = 'Try the ' + model + ' for yourself';
    var p = document.createElement('p');
    p.textContent = 'Book a free test drive of the ' + model + ' at a dealer near you.';
    var book = document.createElement('button');
    book.className = 'primary';
    book.textContent = 'Book a test drive';
    book.setAttribute('data-tailor-goal', 'testdrive_booked');
    var later = document.createElement('button');
    later.textContent = 'Not now';
    book.addEventListener('click', function () { p.textContent = 'Booked. A dealer will call you.'; book.remove(); later.textContent = 'Close'; });
    later.addEventListener('click', function () { box.remove(); });
    box.append(h, p, book, ' ', later);
    document.body.appendChild(box);
  });
})();
