/**
 * The dashboard's one stylesheet and one script, served by inflow from /dashboard/assets/ so the
 * CSP can say `'self'` and nothing else (no CDN, no inline code).
 */
export const stylesheet = `
:root { --ink: #16181d; --muted: #4b5260; --line: #d5d9e0; --bg: #f6f7f9; --card: #fff; --accent: #1f4fd1; --ok: #116336; --bad: #a3151f; --warn: #7a4b00; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
* { box-sizing: border-box; }
body { margin: 0; line-height: 1.5; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible { outline: 3px solid #f5a400; outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 8px; top: 8px; background: var(--card); padding: 8px; z-index: 10; }
header { background: var(--ink); color: #fff; padding: 8px 16px; display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; }
header a { color: #fff; }
header nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 12px; margin: 0; padding: 0; }
header nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
.brand { font-weight: 700; margin-right: 8px; }
.merchant { font-weight: 600; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 2px 8px; border-radius: 999px; font-size: 0.85rem; font-weight: 700; }
.badge[data-mode="test"] { background: #ffd889; color: #3a2600; }
.badge[data-mode="live"] { background: #b9f0cd; color: #0b3d20; }
header form { display: inline; margin: 0; }
header button { background: transparent; color: #fff; border: 1px solid #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.5rem; margin: 8px 0 16px; overflow-wrap: anywhere; }
h2 { font-size: 1.15rem; margin: 24px 0 8px; }
section > h2:first-child, .card > h2:first-child { margin-top: 0; }
section, .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin-bottom: 16px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.95rem; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.9em; overflow-wrap: anywhere; }
form.stack { display: grid; gap: 8px; max-width: 420px; }
form.inline { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; }
label { display: grid; gap: 2px; font-weight: 600; font-size: 0.9rem; }
fieldset { border: 1px solid var(--line); border-radius: 6px; }
fieldset label { display: inline-flex; gap: 4px; font-weight: 400; margin-right: 12px; }
form.stack > *, form.stack label { min-width: 0; }
form.stack input, form.stack select, form.stack textarea { width: 100%; }
input, select, textarea { max-width: 100%; }
input, select, button, textarea { font: inherit; padding: 6px 10px; border-radius: 6px; border: 1px solid #8a92a3; min-height: 36px; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
button.secondary { background: var(--card); color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
label.check { display: flex; gap: 6px; align-items: center; font-weight: 400; }
[role="alert"] { border: 1px solid var(--bad); background: #fdecee; color: var(--bad); padding: 8px 12px; border-radius: 6px; margin-bottom: 12px; }
.notice { border: 1px solid var(--ok); background: #e8f6ee; color: var(--ok); padding: 8px 12px; border-radius: 6px; margin-bottom: 12px; }
.status-completed, .status-succeeded { color: var(--ok); font-weight: 600; }
.status-failed, .status-expired, .status-canceled, .status-underpaid { color: var(--bad); font-weight: 600; }
.status-pending, .status-confirming, .status-detected, .status-requires_approval, .status-queued, .status-sending, .status-broadcast { color: var(--warn); font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 4px 16px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
progress { width: 200px; max-width: 100%; }
svg.chart { width: 100%; height: auto; max-width: 640px; }
svg.chart .bar { fill: var(--accent); }
svg.chart text { font-size: 16px; fill: var(--muted); }
svg.chart .axis { stroke: #8a92a3; }
svg[data-qr] { width: 160px; height: 160px; }
figure { margin: 0; }
.qr-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px; }
.login { max-width: 420px; margin: 48px auto; }
.secret { font-size: 1.05rem; background: #fffbe6; border: 1px dashed var(--warn); padding: 8px; display: block; }
@media (max-width: 600px) {
  header { padding: 8px; }
  main { padding: 8px; }
  th, td { padding: 4px; }
  .hide-narrow { display: none; }
}
`;

/** Live updates of the deposit page, and confirmation prompts; no inline handlers anywhere. */
export const script = `
(function () {
  'use strict';
  function setText(selector, value) {
    var node = document.querySelector(selector);
    if (node && value !== undefined) node.textContent = value === null ? '—' : String(value);
  }
  var page = document.querySelector('[data-live-deposit]');
  if (page && window.EventSource) {
    var id = page.getAttribute('data-live-deposit');
    var shown = page.getAttribute('data-updated-at') || '';
    var after = page.getAttribute('data-stream-after');
    var source = new EventSource('/dashboard/stream' + (after ? '?after=' + encodeURIComponent(after) : ''));
    source.addEventListener('deposit', function (message) {
      var deposit;
      try { deposit = JSON.parse(message.data); } catch (e) { return; }
      if (!deposit || deposit.id !== id) return;
      // An event resent on resuming may be older than what the page shows: keep the newest.
      if (deposit.updated_at && shown && deposit.updated_at < shown) return;
      if (deposit.updated_at) shown = deposit.updated_at;
      var status = document.querySelector('[data-deposit-status]');
      if (status) { status.textContent = deposit.status; status.className = 'status-' + deposit.status; }
      var progress = document.querySelector('progress[data-confirmations]');
      if (progress) {
        progress.max = deposit.required_confirmations;
        progress.value = Math.min(deposit.confirmations, deposit.required_confirmations);
        progress.textContent = deposit.confirmations + ' / ' + deposit.required_confirmations;
      }
      setText('[data-confirmations-text]', deposit.confirmations + ' / ' + deposit.required_confirmations);
      setText('[data-fee]', deposit.fee === null ? null : deposit.fee + ' ' + deposit.currency);
      setText('[data-net]', deposit.net_amount === null ? null : deposit.net_amount + ' ' + deposit.currency);
      // As the server writes times (layout.ts when()): 2026-11-23 06:11:45 UTC.
      setText('[data-completed-at]', deposit.completed_at ? deposit.completed_at.replace('T', ' ').replace(/\\.\\d+Z$/, ' UTC') : null);
      var live = document.querySelector('[data-live-region]');
      if (live) live.textContent = 'Deposit ' + deposit.status + ', ' + deposit.confirmations + ' of ' + deposit.required_confirmations + ' confirmations';
      if (deposit.status === 'completed' || deposit.status === 'failed') source.close();
    });
  }
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault();
    });
  });
})();
`;
