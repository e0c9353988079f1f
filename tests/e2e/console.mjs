// The web console driven in Debian's Chromium (headless) through playwright-core, against a
// running `sluice serve` with an admin token and a real ClickHouse. Each step prints
// `CHECK ok|fail <name> | <detail>`; console.py turns those lines into checks. Screenshots of
// every page go to $SHOTS; axe-core (WCAG 2 A/AA rules: labels, names, contrast) runs on each.
// env: URL (admin listener), TOKEN, CH (ClickHouse HTTP URL), OTLP_HTTP, OTLP_GRPC (ports),
// CH_HTTP, CH_TCP (its ports), RUN (a unique id), SHOTS (a directory), CLIENTS (tests/clients, for node_modules).
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const env = process.env;
const require = createRequire(path.join(env.CLIENTS, 'package.json'));
const { chromium } = require('playwright-core');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const RUN = env.RUN, ID = 'console-logs', TABLE = 'console_logs';
mkdirSync(env.SHOTS, { recursive: true });

let failures = 0;
function check(name, ok, detail = '') {
  if (!ok) failures++;
  console.log(`CHECK ${ok ? 'ok' : 'fail'} ${name} | ${String(detail).replace(/\s+/g, ' ').slice(0, 600)}`);
  return ok;
}

async function sql(q) {
  const r = await fetch(`${env.CH}/?query=${encodeURIComponent(q)}`, { method: 'POST' });
  const t = await r.text();
  if (!r.ok) throw new Error(`ClickHouse: ${t}`);
  return t.trim();
}

async function waitFor(fn, ms = 30000, every = 250) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, every));
  }
  return false;
}

function sendLogs(run, count) {
  const p = spawnSync('node', [path.join(env.CLIENTS, 'send.mjs'), '--signal', 'logs', '--protocol', 'http/protobuf',
    '--count', String(count), '--run', run, '--pipeline', ID, '--http', `http://127.0.0.1:${env.OTLP_HTTP}`,
    '--grpc', `http://127.0.0.1:${env.OTLP_GRPC}`], { encoding: 'utf8', timeout: 60000 });
  return { ok: p.status === 0, out: `${p.stdout}${p.stderr}`.trim() };
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],  // Playwright gives it a fresh profile
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
page.on('console', (m) => {
  // A 401 or 404 from the API is logged by Chromium as a failed resource: expected here.
  if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
});
page.on('dialog', (d) => d.accept());
const external = [];
page.on('request', (r) => { if (!r.url().startsWith(env.URL)) external.push(r.url()); });

async function shot(name) {
  await page.screenshot({ path: path.join(env.SHOTS, `${name}.png`), fullPage: true });
}

async function axe(name) {
  const res = await page.evaluate(`${AXE}\n;axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
    .then((r) => r.violations.map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')))`);
  check(`accessibility: ${name} has no WCAG A/AA violation (axe-core)`, res.length === 0, res.join('; '));
}

const text = (sel) => page.locator(sel).first().innerText({ timeout: 2000 }).catch(() => '');

try {
  // ---- the token
  await page.goto(`${env.URL}/ui/`);
  check('without a token the console says the server asks for one',
    await waitFor(async () => (await text('#notice')).includes('API token')), await text('#notice'));
  await shot('0-token');
  await page.fill('#token-input', env.TOKEN);
  await page.press('#token-input', 'Enter');
  check('after entering it the token is not shown', await waitFor(async () => (await page.inputValue('#token-input')) === '' &&
    (await text('#token-state')) === 'Token set'));
  check('the token is nowhere in the page', !(await page.content()).includes(env.TOKEN));
  check('the overview loads with the token', await waitFor(async () => (await text('#pipelines')).includes('No pipelines yet')),
    await text('#pipelines'));
  await axe('overview (empty)');

  // ---- keyboard: from the top of the page to the create form and a template, keys only
  await page.locator('body').focus();
  let reached = false;
  for (let i = 0; i < 12 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement && document.activeElement.id === 'nav-create');
  }
  check('keyboard: Tab reaches "Create a pipeline"', reached);
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  check('keyboard: the focused link shows a focus ring', outline !== 'none', outline);
  await page.keyboard.press('Enter');
  check('keyboard: Enter opens the create page', await waitFor(async () => page.url().endsWith('#/create')), page.url());
  await waitFor(async () => (await page.locator('#template option').count()) > 1);
  await page.focus('#template');
  await page.selectOption('#template', 'otel-logs');
  await page.keyboard.press('Tab');
  check('keyboard: Tab moves from the template list to its button',
    await page.evaluate(() => document.activeElement.id === 'load-template'));
  await page.keyboard.press('Enter');
  check('the template loads into the editor', await waitFor(async () => (await page.inputValue('#create-doc')).includes('"otlp.logs"')));

  // ---- live validation, then create
  const doc = JSON.parse(await page.inputValue('#create-doc'));
  doc.pipeline_id = ID;
  doc.name = 'Console logs';
  doc.sink.table = TABLE;
  doc.sink.connection_params.port = String(env.CH_TCP);
  doc.sink.connection_params.http_port = String(env.CH_HTTP);
  doc.sink.max_delay_time = '200ms';
  const bad = structuredClone(doc);
  bad.sink.mapping[0].name = 'no_such_field';
  await page.fill('#create-doc', JSON.stringify(bad, null, 2));
  check('validation as you type: a mapping field the schema lacks, with its JSON path',
    await waitFor(async () => (await text('#create-doc-result')).includes('sink.mapping[0].name')), await text('#create-doc-result'));
  check('create is disabled while the document is invalid', await page.isDisabled('#create'));
  const noTable = structuredClone(doc);
  noTable.sink.table = 'no_such_table';
  await page.fill('#create-doc', JSON.stringify(noTable, null, 2));
  check('validation as you type: against the live table',
    await waitFor(async () => /sink\.table[\s\S]*no_such_table/.test(await text('#create-doc-result'))), await text('#create-doc-result'));
  await page.fill('#create-doc', '{"version": "v3", ');
  check('validation as you type: text that is not JSON',
    await waitFor(async () => (await text('#create-doc-result')).includes('Not JSON')), await text('#create-doc-result'));
  await page.fill('#create-doc', JSON.stringify(doc, null, 2));
  check('a valid document enables create', await waitFor(async () => (await text('#create-doc-result')).includes('valid') &&
    !(await page.isDisabled('#create'))), await text('#create-doc-result'));
  await shot('1-create');
  await axe('create');
  await page.click('#create');
  check('create opens the pipeline page', await waitFor(async () => page.url().endsWith(`#/pipeline/${ID}`)), page.url());
  check('the new pipeline is Running', await waitFor(async () => (await text('#status')) === 'Running'), await text('#status'));

  // ---- a real OTLP client's records move the counters
  const sent = sendLogs(RUN, 20);
  check('the OpenTelemetry JS exporter sends 20 records', sent.ok, sent.out);
  await page.click('#nav-overview');
  const row = `tr[data-pipeline="${ID}"]`;
  check('overview: records in and rows written reach 20 without a reload',
    await waitFor(async () => (await text(`${row} [data-field=records_in]`)) === '20' &&
      (await text(`${row} [data-field=rows_written]`)) === '20'), await text(row));
  check('the 20 rows are in ClickHouse', (await sql(`SELECT count() FROM otel.${TABLE} WHERE has(LogAttributes.value, '${RUN}')`)) === '20');
  check('overview: a rate graph per pipeline', await waitFor(async () => (await page.locator('svg.spark polyline').count()) >= 3));
  check('overview: the status is shown', (await text(`${row} [data-field=status]`)) === 'Running');
  await shot('2-overview');
  await axe('overview');

  // ---- the pipeline page: the live table beside the mapping, and a test record
  await page.click(`${row} a`);
  check('pipeline page: the mapping beside the live table', await waitFor(async () => (await text('#mapping')).includes('Body') &&
    (await page.locator('table.columns').count()) === 1 && !(await text('#mapping')).includes('missing')), await text('#table-view'));
  check('pipeline page: the document is in the editor', await waitFor(async () => (await page.inputValue('#pipeline-doc')).includes(TABLE)));
  check('pipeline page: editing needs a stop first', await waitFor(async () => (await page.isDisabled('#save')) &&
    (await text('#save-note')).includes('Stop the pipeline')));
  await page.click('#send-test');
  check('the test record is followed to its table', await waitFor(async () =>
    (await page.getAttribute('#test-status', 'data-status').catch(() => '')) === 'landed', 30000), await text('#test-result'));
  check('it names the table', (await text('#test-status')).includes(`otel.${TABLE}`), await text('#test-status'));
  check('the test record is in ClickHouse, once',
    (await sql(`SELECT count() FROM otel.${TABLE} WHERE Body LIKE 'sluice test record %'`)) === '1');
  await shot('3-pipeline');
  await axe('pipeline');

  // ---- break the table: the pipeline fails with its reason; fix it and it recovers
  await sql(`DROP TABLE otel.${TABLE}`);
  const during = sendLogs(`${RUN}-b`, 5);
  check('records sent while the table is gone are acknowledged', during.ok, during.out);
  check('the pipeline shows Failed', await waitFor(async () => (await text('#status')) === 'Failed', 60000), await text('#status'));
  check('with its reason', (await text('#reason')).includes(TABLE), await text('#reason'));
  await shot('4-failed');
  await sql(`CREATE TABLE otel.${TABLE} AS otel.otel_logs`);
  await sql(`ALTER TABLE otel.${TABLE} MODIFY COLUMN Body FixedString(40)`);
  await page.click('#do-resume');
  check('after the fix and resume it is Running', await waitFor(async () => (await text('#status')) === 'Running', 60000), await text('#status'));
  check('the records buffered while it failed land, exactly once', await waitFor(async () =>
    (await sql(`SELECT count() FROM otel.${TABLE} WHERE has(LogAttributes.value, '${RUN}-b')`)) === '5'));
  check('no reason is shown once it runs', (await text('#reason')) === '', await text('#reason'));

  // ---- dead letters: seen side by side with their errors, paged, filtered, reprocessed
  // after the table is fixed (one selected with the keyboard, then all)
  const DEAD = 25;
  const long = (i) => `console dead letter ${RUN} ${String(i).padStart(2, '0')} ${'x'.repeat(40)}`;
  const records = Array.from({ length: DEAD }, (_, i) => ({ timeUnixNano: String(1717171717000000000n + BigInt(i)),
    body: { stringValue: long(i) }, attributes: [{ key: 'test.run', value: { stringValue: `${RUN}-dlq` } }] }));
  const otlp = await fetch(`http://127.0.0.1:${env.OTLP_HTTP}/v1/logs`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-glassflow-pipeline-id': ID },
    body: JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: records }] }] }),
  });
  check(`${DEAD} records too long for the column are acknowledged`, otlp.status === 200, otlp.status);
  check('the dead-letter count moves', await waitFor(async () => (await text('[data-field=dead_letters]')) === String(DEAD), 30000),
    await text('#figures'));
  await page.click('#dlq-link');
  check('the dead-letter page: 20 on the first page', await waitFor(async () => (await page.locator('article.letter').count()) === 20),
    await text('#dlq-state'));
  check('the queue size is shown', (await text('#dlq-state')).startsWith(`${DEAD} dead letters`), await text('#dlq-state'));
  const letter = await text('article.letter');
  check('the record and its error side by side', letter.includes(long(0)) && /FixedString|too large|Too large|long/i.test(letter), letter);
  await page.click('#dlq-next');
  check('next page: the other 5, none twice', await waitFor(async () => (await page.locator('article.letter').count()) === 5 &&
    (await text('article.letter')).includes(long(20))), await text('#dlq-list'));
  check('no next page after the last', await page.isDisabled('#dlq-next'));
  await page.click('#dlq-prev');
  check('previous page: the first 20 again', await waitFor(async () => (await page.locator('article.letter').count()) === 20 &&
    (await text('article.letter')).includes(long(0))));
  const reason = await text('article.letter .badge');
  await page.fill('#dlq-reason', 'no_such_reason');
  await page.press('#dlq-reason', 'Enter');
  check('filtered by another reason: none', await waitFor(async () => (await text('#dlq-list')).includes('No dead letter has this reason')));
  await page.fill('#dlq-reason', reason);
  await page.press('#dlq-reason', 'Enter');
  check(`filtered by its reason (${reason}): them`, await waitFor(async () => (await page.locator('article.letter').count()) === 20));
  await shot('5-dead-letters');
  await axe('dead letters');
  await sql(`ALTER TABLE otel.${TABLE} MODIFY COLUMN Body String`);
  await page.goBack();
  await waitFor(async () => (await text('#status')) === 'Running');
  await page.click('#do-terminate');
  check('terminate: Stopped', await waitFor(async () => (await text('#status')) === 'Stopped', 60000), await text('#status'));
  check('a stopped pipeline can be edited', await waitFor(async () => !(await page.isDisabled('#save'))));
  await page.click('#do-resume');
  check('resume: Running (it reads the fixed table)', await waitFor(async () => (await text('#status')) === 'Running', 60000));
  await page.click('#dlq-link');
  await waitFor(async () => (await page.locator('article.letter').count()) === 20);
  const third = page.locator('article.letter').nth(2);
  await third.locator('input[type=checkbox]').focus();
  await page.keyboard.press('Space');
  check('keyboard: Space selects a dead letter', await third.locator('input[type=checkbox]').isChecked());
  const picked = await third.locator('pre').first().innerText();
  await page.click('#reprocess-selected');
  check('reprocess selected: one sent again', await waitFor(async () => (await text('#reprocess-result')).startsWith('Reprocessed 1,')),
    await text('#reprocess-result'));
  check('the selected record lands, once', await waitFor(async () =>
    (await sql(`SELECT count() FROM otel.${TABLE} WHERE Body = '${long(2)}'`)) === '1') && picked.includes(long(2)), picked);
  check(`${DEAD - 1} left in the queue`, await waitFor(async () => (await text('#dlq-state')).startsWith(`${DEAD - 1} dead letters`)),
    await text('#dlq-state'));
  await page.click('#reprocess-all');
  check('reprocess all: the rest sent again', await waitFor(async () => (await text('#reprocess-result')).startsWith(`Reprocessed ${DEAD - 1},`)),
    await text('#reprocess-result'));
  check(`every one of the ${DEAD} records is in the table, once`, await waitFor(async () =>
    (await sql(`SELECT count(), uniqExact(Body) FROM otel.${TABLE} WHERE has(LogAttributes.value, '${RUN}-dlq')`)) === `${DEAD}\t${DEAD}`));
  check('the queue is empty', await waitFor(async () => (await text('#dlq-list')).includes('The queue is empty')));

  // ---- a stored ClickHouse password is not shown, and is kept in what the editor sends
  await page.goBack();
  const secret = 's3cret-' + RUN;
  let validated = '';
  await page.route(`**/api/v1/pipeline/${ID}`, async (route) => {
    if (route.request().method() !== 'GET') return route.continue();
    const res = await route.fetch();
    const d = await res.json();
    d.sink.connection_params.password = secret;
    await route.fulfill({ response: res, json: d });
  });
  await page.route('**/api/v1/pipeline/validate', async (route) => {
    validated = route.request().postData() || '';
    await route.continue();
  });
  await page.reload();
  check('the password is not in the editor', await waitFor(async () => (await page.inputValue('#pipeline-doc')).includes('(hidden')) &&
    !(await page.content()).includes(secret) && !(await page.inputValue('#pipeline-doc')).includes(secret));
  check('what the editor validates carries the stored password', await waitFor(async () => validated.includes(secret)), validated.slice(0, 200));
  await page.unrouteAll();
  await page.reload();

  // ---- delete (Stopped only) from the pipeline page
  await waitFor(async () => (await text('#status')) === 'Running');
  check('delete is refused while Running (disabled)', await page.isDisabled('#do-delete'));
  await page.click('#do-stop');
  check('stop: Stopped', await waitFor(async () => (await text('#status')) === 'Stopped', 60000));
  await waitFor(async () => !(await page.isDisabled('#do-delete')));
  await page.click('#do-delete');
  check('delete: back to an empty overview', await waitFor(async () => (await text('#pipelines')).includes('No pipelines yet')));

  check('no script error and no policy violation in the page', pageErrors.length === 0, pageErrors.join('; '));
  check('the page fetched nothing from anywhere else', external.length === 0, external.join(' '));
} catch (e) {
  check('the console run completed', false, e.stack || String(e));
  await shot('error').catch(() => {});
} finally {
  await browser.close();
}
process.exit(failures ? 1 : 0);
