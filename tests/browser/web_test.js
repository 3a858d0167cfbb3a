#!/usr/bin/env node
// The pmx web pages in headless Chromium against a real pmx-httpd (driven by
// tests/integration/test_web_browser.sh, which quarantines the mail first and checks the sink
// afterwards). The administrator signs in on the admin port, sees the dashboard, visits every
// view, finds the message with the hostile subject, opens and releases it, and gives the end
// user a password; the end user signs in on the user port, sees only their own mail and
// releases one message. All along the page scan checks every response's security headers,
// the session cookies, the CSRF header of every POST, that no inline script is served and
// that no JavaScript dialog ever opens.
//
// Environment: PMX_PLAYWRIGHT (the playwright-core directory), CHROMIUM (default
// /usr/bin/chromium), ADMIN_URL, USER_URL, ADMIN_NAME, ADMIN_PASSWORD, USER_NAME,
// USER_PASSWORD, XSS_WORD and XSS_SUBJECT (the admin releases it), USER_WORD and USER_SUBJECT
// (the end user releases it), OTHER_WORD and OTHER_SUBJECT (another user's: never shown),
// GROUP_ADMIN and GROUP_ADMIN_PASSWORD (made a group administrator of @example.test with the
// quarantine right), ARTIFACTS (screenshots). Prints "ok - ..." lines; exit status 1 on the first failure.
'use strict';
const path = require('path');
const {chromium} = require(process.env.PMX_PLAYWRIGHT || 'playwright-core');

const env = name => {
  const v = process.env[name];
  if (!v) { console.error(`web_test.js: ${name} is not set`); process.exit(2); }
  return v;
};
const cfg = {
  admin: env('ADMIN_URL'), user: env('USER_URL'),
  adminName: env('ADMIN_NAME'), adminPassword: env('ADMIN_PASSWORD'),
  userName: env('USER_NAME'), userPassword: env('USER_PASSWORD'),
  xssWord: env('XSS_WORD'), xssSubject: env('XSS_SUBJECT'),
  userWord: env('USER_WORD'), userSubject: env('USER_SUBJECT'),
  otherWord: env('OTHER_WORD'), otherSubject: env('OTHER_SUBJECT'),
  groupAdmin: env('GROUP_ADMIN'), groupAdminPassword: env('GROUP_ADMIN_PASSWORD'),
  artifacts: env('ARTIFACTS'),
};
const ADMIN_VIEWS = ['dashboard', 'quarantine', 'lists', 'policy', 'log', 'reports', 'jobs', 'ipblock', 'services',
                     'config', 'groups'];
const USER_VIEWS = ['quarantine', 'lists', 'settings'];

let count = 0;
const problems = [];  // page-scan findings, collected by the listeners, checked after each step
const t0 = Date.now();
function ok(what) { console.log(`ok ${++count} - ${what} # at ${((Date.now() - t0) / 1000).toFixed(1)} s`); }
function fail(what) { throw new Error(what); }
function checkProblems(step) {
  if (problems.length) fail(`${step}: ${problems.join('; ')}`);
}
async function shot(page, name) {
  const file = path.join(cfg.artifacts, `web-${name}.png`);
  await page.screenshot({path: file, fullPage: true});
  console.log(`# screenshot: ${file}`);
  return file;
}

const origins = [new URL(cfg.admin).origin, new URL(cfg.user).origin];
const rpcMethods = [];  // every method the pages called, with whether the CSRF header was there

// The page scan: listeners on every page of the context.
function scan(page) {
  page.on('dialog', async d => {
    problems.push(`a JavaScript ${d.type()} dialog opened: ${JSON.stringify(d.message())}`);
    await d.dismiss().catch(() => {});
  });
  page.on('pageerror', e => problems.push(`script error: ${e.message}`));
  page.on('console', m => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  page.on('request', r => {
    if (!origins.includes(new URL(r.url()).origin)) {
      problems.push(`request outside pmx-httpd: ${r.url()}`);
      return;
    }
    const p = new URL(r.url()).pathname;
    if (r.method() !== 'POST') return;
    const csrf = r.headers()['x-pmx-csrf'];
    if (p === '/rpc') {
      let method = '?';
      try { method = JSON.parse(r.postData() || '{}').method; } catch { /* reported by the server */ }
      rpcMethods.push({method, csrf: !!csrf});
      if (!csrf) problems.push(`POST /rpc (${method}) without X-PMX-CSRF`);
    } else if (p === '/api/logout') {
      if (!csrf) problems.push('POST /api/logout without X-PMX-CSRF');
    } else if (p !== '/api/login' && p !== '/api/login-link') {
      problems.push(`unexpected POST ${p}`);
    }
  });
  page.on('response', async r => {
    const url = new URL(r.url());
    if (!origins.includes(url.origin)) return;
    const h = await r.allHeaders().catch(() => ({}));
    const what = `${r.request().method()} ${url.pathname} (${r.status()})`;
    const csp = h['content-security-policy'] || '';
    if (!/script-src 'self'/.test(csp) && !/default-src 'self'/.test(csp)) problems.push(`${what}: no CSP restricting scripts`);
    if (/unsafe-inline|unsafe-eval/.test(csp)) problems.push(`${what}: CSP allows unsafe-inline/eval: ${csp}`);
    if (!/frame-ancestors 'none'/.test(csp) && (h['x-frame-options'] || '').toUpperCase() !== 'DENY')
      problems.push(`${what}: framing not denied`);
    if ((h['x-frame-options'] || '').toUpperCase() !== 'DENY') problems.push(`${what}: X-Frame-Options is not DENY`);
    if ((h['x-content-type-options'] || '').toLowerCase() !== 'nosniff') problems.push(`${what}: no X-Content-Type-Options: nosniff`);
    const cookies = (h['set-cookie'] || '').split('\n').filter(Boolean);
    for (const c of cookies) {
      if (!/;\s*HttpOnly/i.test(c) || !/;\s*Secure/i.test(c) || !/;\s*SameSite=Strict/i.test(c))
        problems.push(`${what}: cookie without HttpOnly; Secure; SameSite=Strict: ${c.replace(/=[^;]*/, '=…')}`);
    }
  });
}

// The served HTML: no inline script, no event handler attributes, no inline style.
async function checkHtml(request, base) {
  for (const p of ['/', '/login', '/index.html']) {
    const r = await request.get(base + p);
    if (r.status() !== 200) fail(`GET ${base}${p}: ${r.status()}`);
    const html = await r.text();
    const inline = html.match(/<script\b(?![^>]*\bsrc\s*=)[^>]*>/gi);
    if (inline) fail(`${base}${p} has inline script: ${inline[0]}`);
    if (/<[^>]+\son[a-z]+\s*=/i.test(html)) fail(`${base}${p} has an inline event handler`);
    if (/<style\b|<[^>]+\sstyle\s*=/i.test(html)) fail(`${base}${p} has inline style`);
    if (/javascript:/i.test(html)) fail(`${base}${p} has a javascript: URL`);
    const h = r.headers();
    if (!(h['content-security-policy'] || '').includes("script-src 'self'")) fail(`${base}${p}: CSP lacks script-src 'self'`);
  }
}

// Nothing the hostile subject carries may have become markup.
async function checkNoInjection(page, where) {
  const found = await page.evaluate(() => ({
    inlineScripts: document.querySelectorAll('script:not([src])').length,
    imgX: document.querySelectorAll('img[src="x"]').length,
    handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => /^on/i.test(a.name))).length,
  }));
  if (found.inlineScripts || found.imgX || found.handlers)
    fail(`${where}: injected markup in the page: ${JSON.stringify(found)}`);
}

async function signIn(page, base, name, password, realm) {
  await page.goto(base + '/');
  await page.waitForSelector('#signin');
  await page.fill('#signin [name=name]', name);
  await page.fill('#signin [name=password]', password);
  const [resp] = await Promise.all([
    page.waitForResponse(r => new URL(r.url()).pathname === '/api/login'),
    page.click('#signin button[type=submit]'),
  ]);
  if (resp.status() !== 200) fail(`${realm} sign-in answered ${resp.status()}: ${await resp.text()}`);
  await page.waitForSelector('nav a');
  const cookies = await page.context().cookies(base);
  const c = cookies.find(x => x.name === `pmx_${realm}_session`);
  if (!c) fail(`no pmx_${realm}_session cookie after sign-in`);
  if (!c.httpOnly || !c.secure || c.sameSite !== 'Strict')
    fail(`pmx_${realm}_session cookie: httpOnly=${c.httpOnly} secure=${c.secure} sameSite=${c.sameSite}`);
  const readable = await page.evaluate(() => document.cookie);
  if (readable.includes('session')) fail('the session cookie is readable by scripts');
}

// Waits until a view has its title and nothing is loading any more.
async function viewReady(page) {
  await page.waitForSelector('#view-title');
  await page.waitForFunction(() => !document.querySelector('main .loading'), null, {timeout: 20000});
}

async function openView(page, id) {
  await page.click(`nav a[data-view="${id}"]`);
  await page.waitForFunction(v => location.hash === `#/${v}` &&
                             document.querySelector(`nav a[data-view="${v}"][aria-current="page"]`), id);
  await viewReady(page);
}

// Rows of the quarantine table: [{subject, id}]
async function quarantineRows(page) {
  return page.$$eval('main tbody tr', trs => trs.map(tr => {
    const a = tr.querySelector('a.subject');
    return a ? {subject: a.textContent, href: a.getAttribute('href')} : null;
  }).filter(Boolean));
}

async function search(page, fields) {
  await page.fill('#quarantine-search [name=text]', fields.text || '');
  if (fields.state) await page.selectOption('#quarantine-search [name=state]', fields.state);
  await Promise.all([
    page.waitForResponse(r => new URL(r.url()).pathname === '/rpc' &&
                         (r.request().postData() || '').includes('quarantine.search')),
    page.click('#quarantine-search button[type=submit]'),
  ]);
  await page.waitForFunction(() => !document.querySelector('main .loading'));
  return quarantineRows(page);
}

async function confirmDialog(page, label) {
  const dlg = page.locator('dialog.confirm[open]');
  await dlg.waitFor();
  await dlg.getByRole('button', {name: label}).click();
  await dlg.waitFor({state: 'detached'});
}

async function admin(page) {
  await signIn(page, cfg.admin, cfg.adminName, cfg.adminPassword, 'admin');
  checkProblems('admin sign-in');
  ok('the administrator signs in on the admin port (cookie HttpOnly, Secure, SameSite=Strict)');

  await page.waitForSelector('.dashboard .tiles');
  await viewReady(page);
  const kinds = await page.$$eval('nav a', as => as.map(a => a.dataset.view));
  if (JSON.stringify(kinds) !== JSON.stringify(ADMIN_VIEWS)) fail(`admin navigation: ${kinds}`);
  await shot(page, 'admin-dashboard');
  const dashErrors = await page.$$eval('main .notice.error', es => es.map(e => e.textContent));
  if (dashErrors.length) fail(`dashboard: ${dashErrors.join('; ')}`);
  checkProblems('dashboard');
  ok('the dashboard renders (services, mail by verdict, queue, quarantine, job failures)');

  const viewErrors = [];
  for (const v of ADMIN_VIEWS) {
    await openView(page, v);
    for (const e of await page.$$eval('main .notice.error', es => es.map(x => x.textContent)))
      viewErrors.push(`${v}: ${e}`);
    if (v !== 'dashboard') await shot(page, `admin-view-${v}`);
    checkProblems(`view ${v}`);
  }
  ok(`every admin view renders with the security headers: ${ADMIN_VIEWS.join(', ')}`);
  if (viewErrors.length) console.log(`# views that reported an RPC error (shown to the admin): ${viewErrors.join(' | ')}`);

  await openView(page, 'quarantine');
  const rows = await search(page, {text: cfg.xssWord, state: 'any'});
  if (rows.length !== 1) fail(`search for ${cfg.xssWord} found ${rows.length} messages: ${JSON.stringify(rows)}`);
  if (rows[0].subject !== cfg.xssSubject) fail(`subject shown as ${JSON.stringify(rows[0].subject)}`);
  await checkNoInjection(page, 'quarantine list');
  await shot(page, 'admin-quarantine');
  checkProblems('quarantine search');
  ok('full-text search finds the message; its hostile subject shows as text');

  await page.click(`main a.subject[href="${rows[0].href}"]`);
  await page.waitForSelector('#release');
  await viewReady(page);
  const title = await page.textContent('#view-title');
  if (title !== cfg.xssSubject) fail(`message title ${JSON.stringify(title)}`);
  const text = await page.textContent('.message-text').catch(() => '');
  const headers = await page.textContent('pre.headers');
  if (!headers.includes(cfg.xssWord)) fail('the headers do not show the subject');
  await checkNoInjection(page, 'message view');
  await shot(page, 'admin-message');
  await page.click('#release');
  await confirmDialog(page, 'Release');
  await page.waitForSelector('.notice.ok');
  const released = await page.textContent('.notice.ok');
  if (!released.includes(cfg.userName)) fail(`release said: ${released}`);
  checkProblems('release');
  ok(`the administrator opens the message (headers, text${text ? '' : ' [none]'}) and releases it: "${released}"`);

  await openView(page, 'groups');
  await page.waitForSelector('#web-user-set');
  await page.fill('#web-user-set [name=address]', cfg.userName);
  await page.fill('#web-user-set [name=password]', cfg.userPassword);
  await page.click('#web-user-set button[type=submit]');
  await page.waitForFunction(() => /Set the password of|rror|ailed|not/.test(
    (document.querySelector('main .notice:not([hidden])') || {}).textContent || ''));
  const set = await page.textContent('main .notice:not([hidden])');
  if (!(await page.$('main .notice.ok'))) fail(`setting the end user's password: ${set}`);
  checkProblems('web user password');
  ok(`the administrator gives ${cfg.userName} a password (Groups, web users)`);

  // A group for the domain with the quarantine right only, and a password for its member.
  await page.fill('#group-new [name=name]', 'example-team');
  await page.fill('#group-new [name=members]', cfg.groupAdmin);
  await page.fill('#group-new [name=items]', '@example.test quarantine');
  await page.click('#group-new button[type=submit]');
  await page.waitForFunction(() => document.querySelector('main .notice.ok, main .notice.error'));
  if (!(await page.$('main .notice.ok'))) fail(`saving the group: ${await page.textContent('main .notice:not([hidden])')}`);
  await page.waitForSelector('#web-user-set');
  await page.fill('#web-user-set [name=address]', cfg.groupAdmin);
  await page.fill('#web-user-set [name=password]', cfg.groupAdminPassword);
  await page.click('#web-user-set button[type=submit]');
  await page.waitForFunction(a => /Set the password of|rror|ailed/.test(
    (document.querySelector('main .notice:not([hidden])') || {}).textContent || ''), cfg.groupAdmin);
  if (!(await page.$('main .notice.ok'))) fail(`the group admin's password: ${await page.textContent('main .notice:not([hidden])')}`);
  const groups = await page.$$eval('main td', tds => tds.map(t => t.textContent));
  if (!groups.includes('example-team')) fail(`the new group is not listed: ${groups}`);
  checkProblems('group');
  ok(`the administrator makes a group (${cfg.groupAdmin}: @example.test, quarantine) in the Groups view`);

  await page.click('#signout');
  await page.waitForSelector('#signin');
  checkProblems('sign out');
  ok('the administrator signs out (POST /api/logout with the CSRF header)');
}

// A group administrator sees only the views of their rights, and only mail in their scope.
async function groupAdmin(page) {
  const calls = rpcMethods.length;
  await signIn(page, cfg.admin, cfg.groupAdmin, cfg.groupAdminPassword, 'admin');
  await viewReady(page);
  const kinds = await page.$$eval('nav a', as => as.map(a => a.dataset.view));
  if (JSON.stringify(kinds) !== '["quarantine"]') fail(`group admin navigation: ${kinds}`);
  await page.goto(cfg.admin + '/#/dashboard');
  await page.waitForFunction(() => location.hash === '#/quarantine');
  await viewReady(page);
  const rows = await search(page, {text: cfg.otherWord, state: 'any'});
  if (rows.length !== 1) fail(`the group admin's search for ${cfg.otherWord} found ${rows.length}`);
  const called = new Set(rpcMethods.slice(calls).map(m => m.method));
  for (const m of called) if (!['session.whoami', 'quarantine.search'].includes(m)) fail(`the group admin's page called ${m}`);
  await page.click('#signout');
  await page.waitForSelector('#signin');
  checkProblems('group admin');
  ok('the group administrator sees only the Quarantine view (no dashboard) and mail of @example.test');
}

async function user(page) {
  await signIn(page, cfg.user, cfg.userName, cfg.userPassword, 'user');
  await viewReady(page);
  const kinds = await page.$$eval('nav a', as => as.map(a => a.dataset.view));
  if (JSON.stringify(kinds) !== JSON.stringify(USER_VIEWS)) fail(`user navigation: ${kinds}`);
  checkProblems('user sign-in');
  ok('the end user signs in on the user port');

  let rows = await search(page, {text: '', state: 'any'});
  const subjects = rows.map(r => r.subject);
  if (!subjects.includes(cfg.xssSubject) || !subjects.includes(cfg.userSubject))
    fail(`the end user does not see their own mail: ${JSON.stringify(subjects)}`);
  if (subjects.includes(cfg.otherSubject)) fail('the end user sees another user\'s mail');
  const recipients = await page.$$eval('main tbody td[data-label="To"]', tds => tds.map(t => t.textContent));
  if (recipients.some(r => r !== cfg.userName)) fail(`other recipients shown: ${JSON.stringify(recipients)}`);
  if ((await search(page, {text: cfg.otherWord, state: 'any'})).length) fail('searching for the other user\'s mail finds it');
  await checkNoInjection(page, 'user quarantine');
  checkProblems('user search');
  ok(`the end user sees only their own mail (${subjects.length} messages, none of the other user's)`);

  rows = await search(page, {text: cfg.userWord, state: 'held'});
  if (rows.length !== 1) fail(`the end user's search for ${cfg.userWord} found ${rows.length}`);
  await page.check('main tbody tr input[type=checkbox]');
  await page.click('#bulk-release');
  await confirmDialog(page, 'Release');
  await page.waitForSelector('main .notice.ok, main .notice.error');
  const said = await page.textContent('main .notice:not([hidden])');
  if (!(await page.$('main .notice.ok')) || !/Released 1 message/.test(said)) fail(`the end user's release: ${said}`);
  await viewReady(page);
  await page.selectOption('#quarantine-search [name=state]', 'any');
  await search(page, {text: '', state: 'any'});
  await shot(page, 'user-quarantine');
  checkProblems('user release');
  ok(`the end user releases one message: "${said}"`);

  const noticeSays = async re => {
    await page.waitForFunction(() => document.querySelector('main .notice.ok, main .notice.error'));
    const said = await page.textContent('main .notice:not([hidden])');
    if (!(await page.$('main .notice.ok')) || !re.test(said)) fail(`expected ${re}, the page says: ${said}`);
  };
  await openView(page, 'lists');
  await page.fill('#add-allow textarea', 'friend@partner.test');
  await page.click('#add-allow button[type=submit]');
  await noticeSays(/Added 1/);
  await page.waitForFunction(() => [...document.querySelectorAll('ul.entries code')].some(c => c.textContent === 'friend@partner.test'));
  await shot(page, 'user-lists');
  await openView(page, 'settings');
  await page.check('#digest-opt-out');
  await noticeSays(/no more quarantine digests/);
  await shot(page, 'user-settings');
  checkProblems('user lists and settings');
  ok('the end user adds a sender to their allow list and opts out of digests');
}

// Sign-in by the one-time link mailed to the end user (LINK_TOKEN, taken from the sink by the
// shell part): a fresh browser with no cookies follows it, lands signed in, and the page picks
// up the session's CSRF token (GET /api/session) so its RPC calls work.
async function linkSignIn(browser) {
  const context = await browser.newContext({ignoreHTTPSErrors: true, viewport: {width: 1280, height: 900}});
  try {
    const page = await context.newPage();
    scan(page);
    await page.goto(`${cfg.user}/login?token=${process.env.LINK_TOKEN}`);
    await page.waitForSelector('nav a');
    await viewReady(page);
    const rows = await search(page, {text: '', state: 'any'});
    if (!rows.some(r => r.subject === cfg.userSubject)) fail('signed in by link, the end user does not see their mail');
    const c = (await context.cookies(cfg.user)).find(x => x.name === 'pmx_user_session');
    if (!c || !c.httpOnly || !c.secure || c.sameSite !== 'Strict') fail('no proper session cookie after the link');
    checkProblems('link sign-in');
    ok('the end user signs in by the mailed one-time link in a fresh browser and works (CSRF token from /api/session)');
  } finally {
    await context.close();
  }
}

(async () => {
  const started = Date.now();
  const args = process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [];
  const browser = await chromium.launch({executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args});
  try {
    const context = await browser.newContext({ignoreHTTPSErrors: true, viewport: {width: 1280, height: 900}});
    await checkHtml(context.request, cfg.admin);
    await checkHtml(context.request, cfg.user);
    ok('the served pages have no inline script, event handler or style; CSP script-src \'self\'');
    // One tab for all three: each signs out before the next signs in.
    const page = await context.newPage();
    scan(page);
    await admin(page);
    await groupAdmin(page);
    await user(page);
    if (process.env.LINK_TOKEN) await linkSignIn(browser);
    const methods = [...new Set(rpcMethods.map(m => m.method))];
    if (rpcMethods.some(m => !m.csrf)) fail('a POST /rpc went without the CSRF header');
    ok(`page scan: ${rpcMethods.length} RPC calls (${methods.length} methods), each with X-PMX-CSRF; ` +
       'every response with CSP, X-Frame-Options DENY, nosniff; no dialog opened');
    console.log(`# browser part took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await browser.close();
  }
})().catch(e => {
  console.error(`not ok - ${e.message}`);
  process.exit(1);
});
