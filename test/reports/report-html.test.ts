import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { runCli } from '../helpers/cli';
import { FIXTURE_FILE, fixtureQuarter, fixtureQuarterDates } from './fixture-log';

/**
 * The HTML reports as an auditor opens them: Debian's Chromium (installed by .ci/run), headless,
 * with no network of its own; every request the page makes is recorded.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const quarter = fixtureQuarter();
const dir = mkdtempSync(join(tmpdir(), 'report-html-'));
let context: BrowserContext;
const requests: string[] = [];

beforeAll(async () => {
  context = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: CHROMIUM, headless: true, args: ARGS });
  context.on('request', (r) => requests.push(r.url()));
}, 30_000);
afterAll(async () => {
  await context?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(args: string[], name: string): Promise<{ page: Page; url: string }> {
  const out = join(dir, name);
  const r = await runCli(['report', ...args, '--source', FIXTURE_FILE, '--out', out]);
  expect(r.code).toBe(0);
  const page = await context.newPage();
  const url = pathToFileURL(out).toString();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => (m.type() === 'error' ? errors.push(m.text()) : undefined));
  await page.goto(url);
  expect(errors).toEqual([]);
  return { page, url };
}

const rows = (page: Page, table: string) => page.locator(`#${table} tbody tr`).count();
const column = (page: Page, table: string, i: number) => page.locator(`#${table} tbody tr td:nth-child(${i})`).allTextContents();

test('the access review page: chain at the top, summary, every section with the fixture counts, and nothing fetched', async () => {
  const before = requests.length;
  const { since, until } = fixtureQuarterDates();
  const { page, url } = await open(['access-review', '--since', since, '--until', until, '--format', 'html'], 'review.html');
  expect(requests.slice(before)).toEqual([url]);

  const headings = await page.locator('h2').allTextContents();
  expect(headings).toEqual(['Audit chain', 'Summary', 'Anomalies', 'Grants', 'Refused attempts', 'Access per person and resource', 'Other events']);
  expect(await page.locator('section').first().getAttribute('id')).toBe('chain');
  expect(await page.locator('#chain').getAttribute('data-ok')).toBe('true');
  expect(await page.locator('#chain p').first().textContent()).toMatch(/^Chain verified: 131 events unbroken, head 131:[0-9a-f]{64}\.$/);
  const summary = Object.fromEntries(
    await page.locator('[data-summary]').evaluateAll((cards) => cards.map((c) => [c.getAttribute('data-summary'), c.querySelector('b')?.textContent])),
  );
  expect(summary).toEqual({ grants: '10', people: '3', resources: '7', breakGlass: '4', refusals: '25', anomalies: '9', events: '131' });
  expect(await rows(page, 'grants')).toBe(10);
  expect(await rows(page, 'anomalies')).toBe(9);
  expect(await rows(page, 'refusals')).toBe(15);
  expect(await rows(page, 'totals')).toBe(9);
  expect(await page.locator('#other-empty').textContent()).toBe('None.');
  expect(await column(page, 'anomalies', 1)).toEqual(expect.arrayContaining(['Break-glass without a closed review', 'The worker refused to sign a grant', 'Grant outlived its window']));

  // Tables sort by a click on their header, then the other way on a second click.
  const who = page.locator('#grants th', { hasText: /^who$/ });
  await who.click();
  expect(await who.getAttribute('aria-sort')).toBe('ascending');
  const ascending = await column(page, 'grants', 3);
  expect(ascending).toEqual([...ascending].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
  await who.click();
  expect(await who.getAttribute('aria-sort')).toBe('descending');
  expect(await column(page, 'grants', 3)).toEqual([...ascending].reverse());
  const count = page.locator('#refusals th', { hasText: /^count$/ });
  await count.click();
  await count.click();
  const counts = (await column(page, 'refusals', 3)).map(Number);
  expect(counts[0]).toBe(8);
  expect(counts).toEqual([...counts].sort((a, b) => b - a));

  // Print: no page chrome, no sort arrows; the page prints to PDF.
  await page.emulateMedia({ media: 'print' });
  // Strings: the test is compiled without the DOM library.
  expect(await page.evaluate('getComputedStyle(document.body).maxWidth')).toBe('none');
  expect(await page.evaluate(`getComputedStyle(document.querySelector('#grants th[aria-sort="descending"]'), '::after').content`)).toBe('""');
  const pdf = await page.pdf({ format: 'A4' });
  expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  expect(requests.slice(before)).toEqual([url]);
  await page.close();
});

test('the SOC 2 page: one section per control row, in order, with status, counts and samples', async () => {
  const before = requests.length;
  const { page, url } = await open(['soc2', '--period', quarter], 'soc2.html');
  const controls = await page.locator('section[data-control]').evaluateAll((s) => s.map((e) => `${e.getAttribute('data-control')} ${e.getAttribute('data-status')}`));
  expect(controls).toEqual([
    'CC6.1 answered',
    'CC6.2 answered',
    'CC6.3 answered',
    'CC6.4 not_answered',
    'CC6.5 answered',
    'CC6.6 answered',
    'CC6.7 partial',
    'CC7.2 answered',
    'CC7.3 answered',
    'CC7.4 answered',
    'CC7.5 answered',
    'CC8.1 answered',
  ]);
  expect(await page.locator('#chain').getAttribute('data-ok')).toBe('true');
  expect(await rows(page, 'controls')).toBe(12);
  expect(await page.locator('#cc6-4 .needs').textContent()).toMatch(/What would answer it: your data centre or cloud provider’s SOC 2 report/);
  expect(await page.locator('#cc6-1 [data-sample]').count()).toBe(5);
  expect(await page.locator('#cc8-1-details tbody tr').count()).toBe(3);
  const cc62 = await page.locator('#cc6-2-evidence tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.children[0]!.textContent, tr.children[1]!.textContent]));
  expect(cc62).toEqual(expect.arrayContaining([['access reviews started', '2'], ['review answers: keep', '1'], ['review answers: remove', '1']]));
  expect(await page.locator('#cc6-3-details tbody tr td:nth-child(2)').allTextContents()).toEqual(['U0MALLORY']);
  // The control table links to each section.
  await page.locator('#controls a', { hasText: 'CC7.5' }).click();
  expect(page.url()).toBe(`${url}#cc7-5`);
  expect(requests.slice(before).every((u) => u.startsWith(url))).toBe(true);
  await page.close();
});
