// Drives Debian's Chromium through the Waybill console, as an operator
// would: refused with a wrong token, signed in, the order found by its
// number and its timeline read, a dead letter replayed and seen delivered,
// an exception approved and its audit entry seen, a plugin rolled back
// and a canary of it aborted,
// a reconciliation run asked for; a screenshot of every page. Run by
// tests/console_browser.rs, which starts the host and passes:
// CONSOLE_URL, ADMIN_TOKEN, ORDER, EXCEPTION_ID, PLUGIN, ROLLBACK_TO,
// CANARY_VERSION, SCREENSHOTS, CHROMIUM.

import { chromium } from 'playwright-core';
import path from 'node:path';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const CONSOLE = env('CONSOLE_URL');
const TOKEN = env('ADMIN_TOKEN');
const ORDER = env('ORDER');
const EXCEPTION = env('EXCEPTION_ID');
const PLUGIN = env('PLUGIN');
const ROLLBACK_TO = env('ROLLBACK_TO');
const CANARY_VERSION = env('CANARY_VERSION');
const SHOTS = env('SCREENSHOTS');
const WAIT = { timeout: 20000 };

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

const browser = await chromium.launch({
  executablePath: env('CHROMIUM'),
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const problems = [];
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // Failed fetches (a 401, the probed routes' 404s) are logged as errors
  // too; what must not happen is a script error or a policy violation.
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`console error: ${m.text()}`);
  });
  page.on('dialog', (d) => d.accept());

  // Not signed in: every page sends the browser to the sign-in page.
  await page.goto(`${CONSOLE}exceptions`);
  check(new URL(page.url()).pathname === '/console/login', 'a page without a session redirects to sign in');
  await shot(page, 'login');

  // A wrong token is refused, and no session cookie is set.
  await page.getByLabel('Admin token').fill('not-the-token');
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/console/login') && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
  check(refused.status() === 401, 'a wrong token is answered 401');
  await page.locator('#login-error').waitFor(WAIT);
  check((await context.cookies()).length === 0, 'no cookie after a wrong token');

  // The right token: a session cookie that is HttpOnly, SameSite=Strict and not the token.
  await page.getByLabel('Admin token').fill(TOKEN);
  await Promise.all([page.waitForURL(/\/console\/$/, WAIT), page.getByRole('button', { name: 'Sign in' }).click()]);
  const cookies = await context.cookies();
  check(cookies.length === 1 && cookies[0].name === 'waybill_console', 'one session cookie');
  check(cookies[0].httpOnly && cookies[0].sameSite === 'Strict' && cookies[0].path === '/console', 'the cookie is HttpOnly, SameSite=Strict, scoped to /console');
  check(!cookies[0].value.includes(TOKEN) && !page.url().includes(TOKEN), 'the token is neither in the cookie nor in the URL');

  // Overview: targets with their breakers, KPI placeholders.
  await page.getByRole('heading', { name: 'Overview' }).waitFor(WAIT);
  await page.locator('table:has-text("Breaker") >> text=tms').first().waitFor(WAIT);
  check(await page.locator('[data-kpi]').count() === 4, 'four KPI cards');
  // One more poll, so the rates and charts have two samples to draw.
  const first = await page.locator('#live').innerText();
  await page.waitForFunction((was) => document.getElementById('live').textContent !== was, first, WAIT);
  await shot(page, 'overview');
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement.textContent) === 'Skip to content', 'the first Tab reaches the skip link');

  // Messages: the order by its number, then its timeline with documents.
  await page.getByRole('link', { name: 'Messages' }).click();
  const search = page.getByLabel(/Order, shipment or invoice number/);
  await search.fill(ORDER);
  await shot(page, 'messages');
  await search.press('Enter');
  await page.waitForURL(/cid=/, WAIT).catch(async () => {
    // Several messages carry the order: open the first.
    await page.locator('table a[href*="cid="]').first().click();
    await page.waitForURL(/cid=/, WAIT);
  });
  const story = page.locator('#timeline');
  await story.locator('[data-step="received"]').first().waitFor(WAIT);
  const text = await story.innerText();
  for (const want of ['Received', 'Mapped in', 'northwind-order-released', 'Outbox → tms', 'delivered', ORDER]) {
    check(text.includes(want), `the timeline shows ${want}`);
  }
  await story.getByText('Received document').first().click();
  await story.locator('pre:has-text("' + ORDER + '")').first().waitFor(WAIT);
  check(true, 'the received document is shown');
  await story.getByText('Document sent to tms').first().click();
  await shot(page, 'message');

  // Dead letters: replay the refused delivery, see it delivered.
  await page.getByRole('link', { name: 'Dead letters' }).click();
  const box = page.getByRole('checkbox', { name: /Select dead letter/ }).first();
  await box.waitFor(WAIT);
  await page.getByRole('button', { name: /Inspect dead letter/ }).first().click();
  await page.locator('tr.detail pre').first().waitFor(WAIT);
  await box.check();
  await page.getByRole('button', { name: 'Replay selected (1)' }).click();
  await page.locator('[data-replay-progress="1/1"]').waitFor(WAIT);
  check(true, 'the replayed dead letter was delivered');
  await shot(page, 'dead-letters');

  // Exceptions: approve with a note, see the audit entry.
  await page.getByRole('link', { name: 'Exceptions' }).click();
  await page.getByRole('button', { name: `Open exception ${EXCEPTION}` }).click();
  const pane = page.locator('#exception');
  await pane.getByRole('heading', { name: new RegExp(`Exception ${EXCEPTION}`) }).waitFor(WAIT);
  check((await pane.innerText()).includes('unquoted-charge'), 'the violations are shown');
  await pane.getByLabel('Note').fill('detention agreed by phone');
  await pane.getByLabel('Your name').fill('console-test');
  await pane.getByRole('button', { name: 'Approve' }).click();
  await pane.locator('li[data-audit="approve"]:has-text("user:console-test")').waitFor(WAIT);
  check((await pane.locator('li[data-audit="approve"]').innerText()).includes('detention agreed by phone'), 'the audit entry has the note');
  await shot(page, 'exceptions');

  // Plugins: roll the probe plugin back.
  await page.getByRole('link', { name: 'Plugins' }).click();
  const card = page.locator(`#plugin-${PLUGIN}`);
  await card.waitFor(WAIT);
  await card.getByRole('button', { name: `Roll back ${PLUGIN}` }).click();
  await card.getByText(`active ${ROLLBACK_TO}`, { exact: true }).waitFor(WAIT);
  check(true, `${PLUGIN} rolled back to ${ROLLBACK_TO}`);

  // A canary started from the CLI's side (the admin API) shows on the
  // plugin's card, and the console aborts it.
  const started = await fetch(new URL(`/admin/v1/plugins/${PLUGIN}/canary`, CONSOLE), {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ version: CANARY_VERSION, percent: 50 }),
  });
  check(started.status === 201, `a canary of ${PLUGIN} ${CANARY_VERSION} started (${started.status})`);
  await page.reload();
  const canary = card.locator('[data-report="canary"]');
  await canary.getByText(`Canary: ${CANARY_VERSION} on 50% of business keys`).waitFor(WAIT);
  await shot(page, 'plugins');
  await canary.getByRole('button', { name: `Abort the canary of ${PLUGIN}` }).click();
  await canary.locator('.badge:not(:has-text("running"))').waitFor(WAIT);
  check(true, 'the canary panel shows it ended');

  // Reconciliation: this host has none configured, and says so.
  await page.getByRole('link', { name: 'Reconciliation' }).click();
  await page.getByRole('button', { name: 'Start a run now' }).click();
  await page.getByText(/Not started: .*reconcil/i).waitFor(WAIT);
  check(true, 'starting a run on a host without reconciliation is refused with the reason');
  await shot(page, 'reconcile');

  // Signing out ends the session.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/console\/login$/, WAIT);
  await page.goto(`${CONSOLE}plugins`);
  check(new URL(page.url()).pathname === '/console/login', 'after signing out the pages need a new sign-in');

  check(problems.length === 0, `no script or Content-Security-Policy errors${problems.length ? `: ${problems.join('; ')}` : ''}`);
} catch (e) {
  // The page as it was when the step failed, for whoever reads the log.
  if (page) await shot(page, 'failure').catch(() => {});
  console.log(`not ok - ${e.message}${page ? ` (at ${page.url()}; see failure.png)` : ''}`);
  throw e;
} finally {
  await browser.close();
}
