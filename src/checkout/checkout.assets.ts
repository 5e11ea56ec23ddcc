/**
 * The payment page's one stylesheet and one script, served from /pay/assets/ so its CSP can say
 * `'self'` and nothing else: no inline code, no third-party origin, no tracker. The page works
 * without the script (the status is current at each load); with it, the status is live, the
 * countdown runs and the copy buttons appear.
 */
export const stylesheet = `
:root { --ink: #16181d; --muted: #4b5260; --line: #d5d9e0; --bg: #f6f7f9; --card: #fff; --accent: #1f4fd1; --ok: #116336; --bad: #a3151f; --warn: #7a4b00; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
* { box-sizing: border-box; }
body { margin: 0; line-height: 1.5; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible { outline: 3px solid #f5a400; outline-offset: 2px; }
[hidden] { display: none !important; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.test-banner { margin: 0; padding: 8px 16px; background: #ffd889; color: #3a2600; font-weight: 600; text-align: center; }
main { max-width: 560px; margin: 0 auto; padding: 16px; }
.merchant { display: flex; gap: 12px; align-items: center; }
.merchant img { width: 48px; height: 48px; object-fit: contain; border-radius: 8px; }
.merchant-name { font-weight: 700; margin: 0; overflow-wrap: anywhere; }
h1 { font-size: 1.4rem; margin: 12px 0; overflow-wrap: anywhere; }
h2 { font-size: 1.15rem; margin: 0 0 4px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin-bottom: 16px; }
body[data-status="completed"] .status { border-color: var(--ok); }
body[data-status="completed"] .status h2 { color: var(--ok); }
body[data-status="expired"] .status h2, body[data-status="underpaid"] .status h2, body[data-status="canceled"] .status h2 { color: var(--bad); }
body[data-status="confirming"] .status h2, body[data-status="partially_paid"] .status h2 { color: var(--warn); }
progress { width: 100%; height: 12px; }
.notes { margin: 8px 0 0; padding-left: 20px; }
.notes:empty { display: none; }
dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 6px 12px; margin: 0 0 12px; }
dt { color: var(--muted); }
dd { margin: 0; display: flex; flex-wrap: wrap; gap: 4px 8px; align-items: center; min-width: 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.95em; overflow-wrap: anywhere; word-break: break-all; }
.amount { font-size: 1.1rem; font-weight: 700; }
.fiat, .standard, .deadline-at { color: var(--muted); font-size: 0.9rem; }
.fiat { flex-basis: 100%; }
button { font: inherit; padding: 4px 12px; border-radius: 6px; border: 1px solid var(--accent); background: var(--card); color: var(--accent); cursor: pointer; min-height: 36px; }
.simulate button { background: var(--accent); color: #fff; }
.warning { border: 1px solid var(--warn); background: #fff7e6; color: #4d3000; padding: 8px 12px; border-radius: 6px; }
.qr { margin: 0; text-align: center; }
.qr svg { width: 200px; height: 200px; max-width: 100%; }
.qr figcaption { color: var(--muted); font-size: 0.9rem; }
.wallet-link { text-align: center; margin: 4px 0 0; }
.deadline { margin: 8px 0 0; }
.notice { border: 1px solid var(--ok); background: #e8f6ee; color: var(--ok); padding: 8px 12px; border-radius: 6px; }
.return { display: flex; flex-direction: column; gap: 8px; }
@media (max-width: 400px) {
  main { padding: 8px; }
  dl { grid-template-columns: minmax(0, 1fr); }
  section { padding: 8px; }
}
`;

export const script = `
(function () {
  'use strict';
  var body = document.body;

  // Copy buttons: shown only where the script runs (the text can be selected by hand anyway).
  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    var source = document.getElementById(button.getAttribute('data-copy'));
    if (!source || !navigator.clipboard) return;
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = body.getAttribute('data-copied');
      }, function () {
        button.textContent = body.getAttribute('data-copy-failed');
      });
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  });

  // The countdown, from the server's deadline; the page's clock may be off, the deadline is not.
  var countdown = document.querySelector('[data-countdown]');
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function tick() {
    if (!countdown) return;
    var seconds = Math.max(0, Math.floor((Date.parse(countdown.getAttribute('data-expires-at')) - Date.now()) / 1000));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    countdown.textContent = h > 0 ? h + ':' + pad(m) + ':' + pad(s) : m + ':' + pad(s);
    if (seconds > 0) setTimeout(tick, 1000);
  }
  tick();

  function show(selector, visible) {
    document.querySelectorAll(selector).forEach(function (node) { node.hidden = !visible; });
  }
  function text(selector, value) {
    var node = document.querySelector(selector);
    if (node) node.textContent = value;
  }

  var redirectTimer = null;
  function apply(view) {
    var changed = body.getAttribute('data-status') !== view.status;
    body.setAttribute('data-status', view.status);
    text('[data-headline]', view.headline);
    text('[data-detail]', view.detail);
    text('[data-remaining]', view.remaining);
    var progress = document.querySelector('[data-progress]');
    if (progress) {
      progress.hidden = view.confirmations === null;
      if (view.confirmations !== null) {
        progress.max = view.requiredConfirmations;
        progress.value = view.confirmations;
        progress.textContent = view.confirmations + ' / ' + view.requiredConfirmations;
      }
    }
    var notes = document.querySelector('[data-notes]');
    if (notes) {
      notes.textContent = '';
      view.notes.forEach(function (note) {
        var item = document.createElement('li');
        item.textContent = note;
        notes.appendChild(item);
      });
    }
    show('[data-pay]', view.payable);
    show('.simulate', view.payable);
    show('[data-success-link]', view.status === 'completed');
    show('[data-cancel-link]', view.status !== 'completed');
    // Once the payment is sent, leaving is no longer cancelling.
    var cancel = document.querySelector('[data-cancel-link]');
    if (cancel) cancel.textContent = cancel.getAttribute(view.payable ? 'data-cancel-text' : 'data-return-text');
    // Screen readers hear each change of status, and each new confirmation count, once.
    text('[data-announce]', view.headline + '. ' + view.detail);
    var successUrl = body.getAttribute('data-success-url');
    if (view.status === 'completed' && successUrl && redirectTimer === null) {
      show('[data-redirecting]', true);
      redirectTimer = setTimeout(function () { window.location.assign(successUrl); }, 3000);
    }
    return changed;
  }

  var stream = body.getAttribute('data-stream');
  if (stream && window.EventSource && body.getAttribute('data-status') !== 'completed') {
    var source = new EventSource(stream);
    source.addEventListener('state', function (message) {
      var view;
      try { view = JSON.parse(message.data); } catch (e) { return; }
      apply(view);
      if (view.final) source.close();
    });
  } else if (body.getAttribute('data-status') === 'completed') {
    var successUrl = body.getAttribute('data-success-url');
    if (successUrl) {
      show('[data-redirecting]', true);
      setTimeout(function () { window.location.assign(successUrl); }, 3000);
    }
  }
})();
`;
