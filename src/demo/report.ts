/**
 * The demo's HTML report: one self-contained file (inline CSS, SVG and a little JS; nothing fetched),
 * with alerts over time by analytic, the score distribution, the detection result against the
 * ground truth, and each alert's reasons and evidence chain. Charts are drawn here as SVG, so the
 * report reads the same with scripts off; the script only filters by analytic and opens details.
 */
import type { Evaluation } from './evaluate';
import type { AlertRow } from './rows';

export interface ReportInput {
  title?: string;
  generatedAt: string;
  /** The telemetry's period (the time axis); default: the alerts' span. */
  period?: { start: string; end: string };
  alerts: AlertRow[];
  evaluation?: Evaluation;
  /** Label/value lines shown under the title (engine, events, run). */
  facts?: Array<[string, string]>;
}

export const ANALYTIC_COLORS: Record<string, string> = {
  AN1496: '#2563eb',
  AN1497: '#16a34a',
  AN1498: '#9333ea',
  AN1499: '#ea580c',
  AN1500: '#dc2626',
};
const OTHER_COLOR = '#6b7280';
const BUCKETS_MS = [60_000, 5 * 60_000, 15 * 60_000, 30 * 60_000, 3_600_000, 2 * 3_600_000, 6 * 3_600_000, 12 * 3_600_000, 86_400_000, 7 * 86_400_000];
const MAX_BUCKETS = 48;

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function colorOf(analytic: string): string {
  return ANALYTIC_COLORS[analytic] ?? OTHER_COLOR;
}

export interface TimeBucket {
  start: number;
  counts: Record<string, number>;
}

/** Alerts per analytic in equal buckets over the period (at most MAX_BUCKETS of them). */
export function timeBuckets(alerts: AlertRow[], period?: { start: string; end: string }): { sizeMs: number; buckets: TimeBucket[] } {
  const times = alerts.map((a) => Date.parse(a.time)).filter(Number.isFinite);
  const from = period ? Date.parse(period.start) : Math.min(...times);
  const to = period ? Date.parse(period.end) : Math.max(...times);
  if (!Number.isFinite(from) || !Number.isFinite(to)) return { sizeMs: 3_600_000, buckets: [] };
  const span = Math.max(to - from, 1);
  const sizeMs = BUCKETS_MS.find((b) => span / b <= MAX_BUCKETS) ?? BUCKETS_MS[BUCKETS_MS.length - 1]!;
  const first = Math.floor(from / sizeMs) * sizeMs;
  const count = Math.max(1, Math.ceil((Math.max(to, ...times) + 1 - first) / sizeMs));
  const buckets: TimeBucket[] = Array.from({ length: count }, (_, i) => ({ start: first + i * sizeMs, counts: {} }));
  for (const a of alerts) {
    const t = Date.parse(a.time);
    if (!Number.isFinite(t)) continue;
    const b = buckets[Math.min(count - 1, Math.max(0, Math.floor((t - first) / sizeMs)))]!;
    b.counts[a.analytic] = (b.counts[a.analytic] ?? 0) + 1;
  }
  return { sizeMs, buckets };
}

/** Alerts per score band of ten points: [0,10), ..., [90,100]. */
export function scoreBands(alerts: AlertRow[]): Array<{ from: number; to: number; count: number }> {
  const bands = Array.from({ length: 10 }, (_, i) => ({ from: i * 10, to: i * 10 + 10, count: 0 }));
  for (const a of alerts) bands[Math.min(9, Math.max(0, Math.floor(a.score / 10)))]!.count++;
  return bands;
}

function label(t: number, sizeMs: number): string {
  const iso = new Date(t).toISOString();
  return sizeMs >= 86_400_000 ? iso.slice(0, 10) : `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

function timeChart(alerts: AlertRow[], analytics: string[], period?: { start: string; end: string }): string {
  const { sizeMs, buckets } = timeBuckets(alerts, period);
  const W = 900;
  const H = 260;
  const left = 40;
  const bottom = 40;
  const top = 10;
  const plotH = H - bottom - top;
  const max = Math.max(1, ...buckets.map((b) => Object.values(b.counts).reduce((x, y) => x + y, 0)));
  const bw = buckets.length ? (W - left - 10) / buckets.length : 0;
  const parts: string[] = [];
  for (const tick of [0, Math.ceil(max / 2), max]) {
    const y = top + plotH - (tick / max) * plotH;
    parts.push(`<line x1="${left}" x2="${W - 10}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" class="grid"/><text x="${left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" class="axis">${tick}</text>`);
  }
  buckets.forEach((b, i) => {
    let y = top + plotH;
    const x = left + i * bw;
    for (const an of analytics) {
      const n = b.counts[an] ?? 0;
      if (!n) continue;
      const h = (n / max) * plotH;
      y -= h;
      parts.push(`<rect class="bar" data-analytic="${escapeHtml(an)}" data-count="${n}" data-bucket="${new Date(b.start).toISOString()}" x="${(x + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${colorOf(an)}"><title>${escapeHtml(an)}: ${n} alert(s) from ${label(b.start, sizeMs)}</title></rect>`);
    }
    const every = Math.max(1, Math.ceil(buckets.length / 8));
    if (i % every === 0) parts.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${H - bottom + 16}" text-anchor="middle" class="axis">${escapeHtml(label(b.start, sizeMs))}</text>`);
  });
  parts.push(`<text x="${W / 2}" y="${H - 6}" text-anchor="middle" class="axis">UTC, ${escapeHtml(sizeMs >= 3_600_000 ? `${sizeMs / 3_600_000} h` : `${sizeMs / 60_000} min`)} per bar</text>`);
  return `<svg id="chart-time" role="img" aria-label="alerts over time by analytic" viewBox="0 0 ${W} ${H}" width="100%" data-buckets="${buckets.length}">${parts.join('')}</svg>`;
}

function scoreChart(alerts: AlertRow[]): string {
  const bands = scoreBands(alerts);
  const W = 900;
  const H = 230;
  const left = 40;
  const bottom = 36;
  const top = 22;
  const plotH = H - bottom - top;
  const max = Math.max(1, ...bands.map((b) => b.count));
  const bw = (W - left - 10) / bands.length;
  const threshold = alerts.find((a) => a.threshold !== undefined)?.threshold;
  const parts = bands.map((b, i) => {
    const h = (b.count / max) * plotH;
    const x = left + i * bw;
    return `<rect class="band" data-range="${b.from}-${b.to}" data-count="${b.count}" x="${(x + 2).toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${(bw - 4).toFixed(1)}" height="${h.toFixed(1)}"><title>score ${b.from}-${b.to}: ${b.count} alert(s)</title></rect>`
      + `<text x="${(x + bw / 2).toFixed(1)}" y="${H - bottom + 16}" text-anchor="middle" class="axis">${b.from}-${b.to}</text>`
      + (b.count ? `<text x="${(x + bw / 2).toFixed(1)}" y="${(top + plotH - h - 4).toFixed(1)}" text-anchor="middle" class="axis">${b.count}</text>` : '');
  });
  if (threshold !== undefined) {
    const x = left + (threshold / 100) * (W - left - 10);
    parts.push(`<line id="score-threshold" data-threshold="${threshold}" x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${top}" y2="${top + plotH}" class="threshold"/><text x="${(x + 4).toFixed(1)}" y="${top + 12}" class="axis">threshold ${threshold}</text>`);
  }
  return `<svg id="chart-scores" role="img" aria-label="score distribution" viewBox="0 0 ${W} ${H}" width="100%">${parts.join('')}</svg>`;
}

function detection(evaluation: Evaluation | undefined): string {
  if (!evaluation) return '';
  const rows = [
    ...evaluation.found.map((f) => ({ attack: f.attack, status: 'found', alerts: f.alerts.length })),
    ...evaluation.missed.map((attack) => ({ attack, status: 'missed', alerts: 0 })),
  ].sort((x, y) => x.attack.start.localeCompare(y.attack.start));
  const body = rows.map((r) => `<tr class="attack ${r.status}" data-status="${r.status}"><td>${escapeHtml(r.attack.id)}</td><td>${escapeHtml(r.attack.analytic)}</td><td>${escapeHtml(r.attack.scenario)}${r.attack.evasive ? ' <span class="tag">evasive</span>' : ''}</td><td>${escapeHtml(r.attack.hosts.join(', '))}</td><td>${escapeHtml(r.attack.start)}</td><td>${r.status}</td><td>${r.alerts}</td></tr>`).join('');
  const falseRows = evaluation.falseAlerts.map((f) => `<tr class="false-alert"><td>${escapeHtml(f.alert.slice(0, 12))}</td><td>${escapeHtml(f.analytic)}</td><td>${escapeHtml(f.hosts.join(', '))}</td><td>${escapeHtml(f.timestamp)}</td><td>${f.benignHost ? 'benign host' : 'no attack here'}</td></tr>`).join('');
  return `<section id="detection"><h2>Detection against the ground truth</h2>
<p class="verdict"><span id="found-count">${evaluation.found.length}</span> of ${evaluation.found.length + evaluation.missed.length} attack(s) found, <span id="missed-count">${evaluation.missed.length}</span> missed, <span id="false-count">${evaluation.falseAlerts.length}</span> false alert(s)</p>
<table><thead><tr><th>attack</th><th>analytic</th><th>scenario</th><th>hosts</th><th>start</th><th>result</th><th>alerts</th></tr></thead><tbody>${body}</tbody></table>
${falseRows ? `<h3>False alerts</h3><table><thead><tr><th>alert</th><th>analytic</th><th>hosts</th><th>time</th><th>why</th></tr></thead><tbody>${falseRows}</tbody></table>` : ''}</section>`;
}

function alertBlock(a: AlertRow, status: string | undefined): string {
  const reasons = [...a.reasons].sort((x, y) => y.points - x.points).map((r) => `<tr class="reason"><td>${escapeHtml(r.name)}</td><td class="num">${r.points}</td><td>${escapeHtml(r.observed)}</td><td>${escapeHtml(r.threshold)}${r.tunable ? ` <span class="tag">${escapeHtml(r.tunable)}</span>` : ''}</td><td>${escapeHtml(r.message)}</td></tr>`).join('');
  const evidence = a.evidence.map((e) => `<li class="evidence-item" data-index="${escapeHtml(e.index)}" data-id="${escapeHtml(e.id)}"><time>${escapeHtml(e.timestamp)}</time> <b>${escapeHtml(e.dataset ?? '')}</b> ${escapeHtml(e.action ?? '')}${e.description ? `<div class="desc">${escapeHtml(e.description)}</div>` : ''}</li>`).join('');
  return `<details class="alert" data-analytic="${escapeHtml(a.analytic)}" data-score="${a.score}" data-id="${escapeHtml(a.id)}"${status ? ` data-match="${status}"` : ''}>
<summary><span class="dot" style="background:${colorOf(a.analytic)}"></span><time>${escapeHtml(a.time)}</time> <b>${escapeHtml(a.analytic)}</b> <span class="score">${a.score}</span> ${escapeHtml(a.host)} ${escapeHtml(a.process)} → ${escapeHtml(a.destination)}${status === 'false' ? ' <span class="tag false">false alert</span>' : ''}</summary>
<p class="message">${escapeHtml(a.summary)}</p>
<h4>Reasons (${a.reasons.length})</h4><table class="reasons"><thead><tr><th>reason</th><th>points</th><th>observed</th><th>threshold</th><th>meaning</th></tr></thead><tbody>${reasons}</tbody></table>
<h4>Evidence chain (${a.evidence.length} event(s), oldest first)</h4><ol class="evidence">${evidence}</ol>
</details>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:16px 24px;color:#111827;background:#fff}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #e5e7eb}h4{margin:10px 0 4px}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{border-bottom:1px solid #e5e7eb;padding:3px 6px;text-align:left;vertical-align:top}th{background:#f9fafb}
.num{text-align:right}.facts td:first-child{color:#6b7280;width:180px}.axis{font-size:11px;fill:#4b5563}.grid{stroke:#e5e7eb}
.band{fill:#0ea5e9}.threshold{stroke:#dc2626;stroke-dasharray:4 3}.legend{display:flex;gap:14px;flex-wrap:wrap;margin:6px 0}
.legend button{border:1px solid #d1d5db;background:#fff;border-radius:4px;padding:2px 8px;cursor:pointer}.legend button.off{opacity:.35}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px}.tag{font-size:11px;background:#eef2ff;border-radius:3px;padding:0 4px}
.tag.false{background:#fee2e2}.score{font-weight:700}details.alert{border:1px solid #e5e7eb;border-radius:6px;margin:6px 0;padding:4px 10px}
details.alert summary{cursor:pointer}.evidence{margin:4px 0 8px 18px;padding:0}.evidence li{margin:2px 0}.desc{color:#374151;font-size:12px}
tr.missed td{background:#fee2e2}.verdict{font-size:16px}.hidden{display:none}`;

/** Filters by analytic from the legend; expand/collapse all. No network, no external code. */
const SCRIPT = `
(function(){
  var off = {};
  function apply(){
    document.querySelectorAll('details.alert').forEach(function(d){ d.classList.toggle('hidden', !!off[d.dataset.analytic]); });
    document.querySelectorAll('#chart-time rect.bar').forEach(function(r){ r.style.opacity = off[r.dataset.analytic] ? '0.1' : '1'; });
  }
  document.querySelectorAll('.legend button[data-analytic]').forEach(function(b){
    b.addEventListener('click', function(){ off[b.dataset.analytic] = !off[b.dataset.analytic]; b.classList.toggle('off', off[b.dataset.analytic]); apply(); });
  });
  var toggle = document.getElementById('expand-all');
  if (toggle) toggle.addEventListener('click', function(){
    var open = toggle.dataset.open !== 'true';
    document.querySelectorAll('details.alert').forEach(function(d){ d.open = open; });
    toggle.dataset.open = String(open); toggle.textContent = open ? 'collapse all' : 'expand all';
  });
  document.body.dataset.ready = 'true';
})();`;

export function renderReport(input: ReportInput): string {
  const alerts = [...input.alerts].sort((x, y) => x.time.localeCompare(y.time) || x.id.localeCompare(y.id));
  const analytics = [...new Set([...Object.keys(ANALYTIC_COLORS), ...alerts.map((a) => a.analytic)])];
  const counts = Object.fromEntries(analytics.map((an) => [an, alerts.filter((a) => a.analytic === an).length]));
  const status = new Map<string, string>();
  for (const f of input.evaluation?.found ?? []) for (const id of f.alerts) status.set(id, 'attack');
  for (const f of input.evaluation?.falseAlerts ?? []) status.set(f.alert, 'false');
  const facts = (input.facts ?? []).map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(v)}</td></tr>`).join('');
  const legend = analytics.map((an) => `<button type="button" data-analytic="${escapeHtml(an)}"><span class="dot" style="background:${colorOf(an)}"></span>${escapeHtml(an)} (${counts[an]})</button>`).join('');
  const title = input.title ?? 'cryptochannel demo report';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>Command and control hidden in asymmetric-crypto channels (MITRE ATT&amp;CK T1573.002): the correlator's alerts, why each scored as it did, and the events behind it.</p>
${input.evaluation ? `<p class="verdict">${input.evaluation.found.length} of ${input.evaluation.found.length + input.evaluation.missed.length} attack(s) found, ${input.evaluation.missed.length} missed, ${input.evaluation.falseAlerts.length} false alert(s): <a href="#detection">details</a></p>` : ''}
<table class="facts"><tbody><tr><td>generated</td><td>${escapeHtml(input.generatedAt)}</td></tr>${input.period ? `<tr><td>period</td><td>${escapeHtml(input.period.start)} .. ${escapeHtml(input.period.end)}</td></tr>` : ''}<tr><td>alerts</td><td id="alert-count">${alerts.length}</td></tr>${facts}</tbody></table>
<section id="timeline"><h2>Alerts over time by analytic</h2><div class="legend">${legend}</div>${timeChart(alerts, analytics, input.period)}</section>
<section id="scores"><h2>Score distribution</h2>${scoreChart(alerts)}</section>
${detection(input.evaluation)}
<section id="alerts"><h2>Alerts, their reasons and evidence</h2><button type="button" id="expand-all">expand all</button>
${alerts.length ? alerts.map((a) => alertBlock(a, status.get(a.id))).join('\n') : '<p id="no-alerts">No alerts.</p>'}</section>
<script>${SCRIPT}</script>
</body></html>
`;
}
