import type { ChainCheck } from './report-source';

/** Text for HTML: every value from the log goes through this. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export const isoTime = (ms: number | undefined): string => (ms === undefined || !Number.isFinite(ms) ? '' : new Date(ms).toISOString().replace('.000Z', 'Z'));

export type Cell = string | number | { text: string; sort?: string | number; html?: string };

/** A table whose headers sort it (click; again to reverse). Numbers sort as numbers, times as ISO text. */
export function table(id: string, columns: string[], rows: Cell[][], empty = 'None in this period.'): string {
  if (rows.length === 0) return `<p class="empty" id="${esc(id)}-empty">${esc(empty)}</p>`;
  const head = columns.map((c, i) => `<th scope="col" data-col="${i}" tabindex="0" aria-sort="none">${esc(c)}</th>`).join('');
  const body = rows
    .map(
      (cells) =>
        `<tr>${cells
          .map((cell) => {
            if (typeof cell === 'object') return `<td data-sort="${esc(cell.sort ?? cell.text)}">${cell.html ?? esc(cell.text)}</td>`;
            return `<td${typeof cell === 'number' ? ` data-sort="${cell}" class="num"` : ''}>${esc(cell)}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('\n');
  return `<table class="sortable" id="${esc(id)}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function chainBanner(chain: ChainCheck): string {
  const where = chain.from ? ` from the anchor at event ${chain.from.seq} (earlier events are in the archive)` : '';
  const text = chain.ok
    ? `Chain verified: ${chain.count} events${where} unbroken, head ${chain.head?.seq}:${chain.head?.hash ?? ''}.`
    : `Chain BROKEN at event ${chain.firstBad?.seq}: ${chain.firstBad?.problem}. ${chain.count} events before it verified.`;
  return `<section id="chain" class="chain ${chain.ok ? 'ok' : 'broken'}" data-ok="${chain.ok}"><h2>Audit chain</h2><p>${esc(text)}</p><p class="muted">Source: ${esc(chain.source)}${chain.redis ? `; ${esc(chain.redis)}` : ''}</p>${(chain.notProven ?? []).map((n) => `<p class="not-proven">Not proven: ${esc(n)}</p>`).join('')}</section>`;
}

const CSS = `
:root{--fg:#1d2330;--muted:#5b6472;--line:#d8dde5;--ok:#0f6b3a;--bad:#a01c1c;--warn:#8a5a00;--bg:#f6f8fa}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0 auto;max-width:1200px;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}
.muted{color:var(--muted)}.chain{border:2px solid;border-radius:6px;padding:8px 14px;margin:16px 0}.chain h2{border:0;margin:4px 0}
.chain.ok{border-color:var(--ok);background:#eef8f1}.chain.broken{border-color:var(--bad);background:#fbeeee}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}.card{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:130px;background:var(--bg)}
.card b{display:block;font-size:22px}table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}th{background:var(--bg);cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}td.num{text-align:right;font-variant-numeric:tabular-nums}
.status{font-weight:600;text-transform:uppercase;font-size:12px}.status.answered{color:var(--ok)}.status.partial,.status.no_activity{color:var(--warn)}.status.not_answered{color:var(--bad)}
.empty{color:var(--muted);font-style:italic}code{font-size:12px}section.control{page-break-inside:avoid}
@media print{body{max-width:none;padding:0;font-size:11px}th{cursor:auto}th::after{content:""!important}a{color:inherit;text-decoration:none}
h2{page-break-after:avoid}tr{page-break-inside:avoid}.noprint{display:none}.chain,.card{background:none!important}}
`;

const SCRIPT = `
(function(){
  function key(td){var v=td.getAttribute('data-sort');if(v===null)v=td.textContent;var n=Number(v);return v!==''&&!isNaN(n)?n:v.toLowerCase();}
  document.querySelectorAll('table.sortable th').forEach(function(th){
    function sort(){
      var table=th.closest('table'),body=table.tBodies[0],col=Number(th.getAttribute('data-col'));
      var dir=th.getAttribute('aria-sort')==='ascending'?'descending':'ascending';
      table.querySelectorAll('th').forEach(function(o){o.setAttribute('aria-sort','none');});
      th.setAttribute('aria-sort',dir);
      var rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){var x=key(a.cells[col]),y=key(b.cells[col]);var c=x<y?-1:x>y?1:0;return dir==='ascending'?c:-c;});
      rows.forEach(function(r){body.appendChild(r);});
    }
    th.addEventListener('click',sort);th.addEventListener('keydown',function(e){if(e.key==='Enter')sort();});
  });
})();
`;

/** One self-contained page: inline style and script, and a policy that forbids fetching anything. */
export function page(title: string, subtitle: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><header><h1>${esc(title)}</h1><p class="muted">${esc(subtitle)}</p></header>
${body}
<script>${SCRIPT}</script></body></html>
`;
}

export function cards(items: { id: string; label: string; value: number | string }[]): string {
  return `<div class="cards" id="summary">${items.map((i) => `<div class="card" data-summary="${esc(i.id)}"><b>${esc(i.value)}</b>${esc(i.label)}</div>`).join('')}</div>`;
}
