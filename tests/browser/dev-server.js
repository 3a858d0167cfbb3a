#!/usr/bin/env node
// Development aid, not a test: serves share/web with canned RPC answers, so the pages can be
// worked on without pmx-httpd (node tests/browser/dev-server.js [ADMIN_PORT USER_PORT]).
// The integration test test_web_browser.sh always runs against the real pmx-httpd.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const web = path.join(__dirname, '..', '..', 'share', 'web');
const [adminPort, userPort] = [Number(process.argv[2] || 18088), Number(process.argv[3] || 18089)];
const headers = {
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
                             "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Frame-Options': 'DENY', 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer',
};
const types = {'.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.html': 'text/html; charset=utf-8'};
const now = Date.now() * 1000;
const xss = '<script>alert(1)</script><img src=x onerror=alert(2)>';
const msg = (id, subject, rcpt, held = true) => ({
  id, time_us: now - id * 600e6, time: '', queue_id: `4Q${id}X`, client_ip: '192.0.2.7', sender: `sender${id}@example.com`,
  recipients: [rcpt], subject, reason: id % 2 ? 'spam score 12.3' : 'policy: held for review', score: id % 2 ? 12.3 : null,
  size: 2048 * id, node: 'gw1', rule: 'hold', held,
  recipient_states: [{recipient: rcpt, released: !held, released_us: held ? null : now, released_by: held ? '' : 'root', released_to: ''}]});
const messages = [msg(1, xss, 'carol@example.test'), msg(2, 'Invoice 2026-11', 'dave@example.test'),
                  ...Array.from({length: 8}, (_, i) => msg(i + 3, `Newsletter ${i + 3}`, 'carol@example.test', i % 3 !== 0))];
const groups = [{name: 'example-admins', members: ['bob'], items: [{pattern: '@example.test', rights: ['quarantine', 'lists']}]}];
const lists = {allow: [{pattern: 'friend@example.com', meaning: 'address'}, {pattern: '@partner.test', meaning: 'domain'}],
               block: [{pattern: xss, meaning: 'address'}]};
const answers = {
  'session.whoami': (p, realm, name) => realm === 'admin' && name.includes('@')
    ? {name, kind: 'group_admin', realm, csrf: 'dev-csrf', rights: ['quarantine'], scope: [{pattern: '@example.test', rights: ['quarantine']}]}
    : realm === 'admin'
    ? {name: 'admin', kind: 'admin', realm, csrf: 'dev-csrf', rights: ['quarantine', 'lists', 'reports', 'policy'], scope: []}
    : {name: 'carol@example.test', kind: 'user', realm, csrf: 'dev-csrf', rights: ['quarantine', 'lists'],
       scope: [{pattern: 'carol@example.test', rights: ['quarantine', 'lists']}]},
  'quarantine.search': (p, realm) => {
    const found = messages.filter(m => (!p.text || (m.subject + ' ' + m.sender).toLowerCase().includes(p.text.toLowerCase())) &&
      (!p.state || p.state === 'any' || (p.state === 'held') === m.held) &&
      (realm === 'admin' || m.recipients.includes('carol@example.test')));
    return {messages: found.slice(p.offset || 0, (p.offset || 0) + (p.limit || 50)), limit: p.limit || 50, offset: p.offset || 0};
  },
  'quarantine.show': p => ({...messages.find(m => m.id === p.id), headers: `From: x@example.com\nSubject: ${xss}\n`,
    parts: [{part: '1', content_type: 'text/plain', filename: '', size: 120}, {part: '2', content_type: 'application/pdf', filename: `${xss}.pdf`, size: 20480}],
    text: `Hello,\n${xss}\nBye`, why: {reason: 'spam score 12.3', rule: 'hold <b>spam</b>', score: 12.3}}),
  'quarantine.release': p => ({results: p.ids.map(id => ({id, released: ['carol@example.test'], already_released: [], queue_entry: 'q1'}))}),
  'quarantine.delete': p => ({results: p.ids.map(id => ({id, deleted: true}))}),
  'lists.show': p => ({owner: p.owner ?? 'carol@example.test', ...lists}),
  'lists.add': p => { lists[p.list].push(...p.entries.map(pattern => ({pattern, meaning: 'address'}))); return {added: p.entries.length}; },
  'lists.remove': p => { lists[p.list] = lists[p.list].filter(e => !p.entries.includes(e.pattern)); return {removed: p.entries.length}; },
  'user.settings': () => ({address: 'carol@example.test', addresses: ['carol@example.test', 'sales@example.test'], digest_opt_out: false, has_password: true}),
  'user.set_digest': p => ({digest_opt_out: p.opt_out}), 'user.set_password': () => ({}),
  'dashboard.summary': () => ({services: [{id: 'milter', active_state: 'active', sub_state: 'running', status_text: 'listening on inet:17373'},
                                          {id: 'queued', active_state: 'active', sub_state: 'running'}, {id: 'avd', active_state: 'failed', sub_state: 'failed'}],
    mail: {last_hour: {messages: 130, recipients: 137, accepted: 120, quarantined: 14, rejected: 3, tempfailed: 0, discarded: 0},
           last_day: {messages: 2600, recipients: 2692, accepted: 2400, quarantined: 210, rejected: 80, tempfailed: 2, discarded: 0}},
    queue: {incoming: 0, active: 0, deferred: 2, failed: 1, total: 3}, quarantine: {held: 37}, scheduler: 'active', errors: [],
    job_failures: [{name: 'sa-update', last: '2026-11-25 03:00', result_text: 'exit status 1'}]}),
  'services.status': () => [{unit: 'pmx-milter.service', id: 'milter', description: 'pmx milter', active_state: 'active', sub_state: 'running', since_usec: now, memory_bytes: 31e6, status_text: 'ok'}],
  'jobs.list': () => ({scheduler: 'active', failed: 1, problems: [], jobs: [
    {name: 'quarantine-expire', description: 'Remove old quarantined mail', command: ['pmx', 'quarantine', 'expire'], enabled: true, schedule: ['daily'], next: '2026-11-26 00:00', last: '2026-11-25 00:00', result: 'success', result_text: 'ok', failed: false},
    {name: 'sa-update', description: 'Update rules', command: ['pmx', 'spam', 'update'], enabled: false, schedule: ['*-*-* 03:00'], next: '-', last: '2026-11-25 03:00', result: 'exit-code', result_text: 'exit status 1', failed: true}]}),
  'ipblock.list': () => [{network: '192.0.2.7/32', source: 'manual', reason: xss, added_us: now, expires_us: null, active: true, offenses: 3}],
  'log.search': () => [{id: 1, time_us: now, sender: 'a@example.com', recipients: [{address: 'carol@example.test', verdict: 'quarantine'}], client_ip: '192.0.2.7', score: 8.1, size: 3000, rules: ['BAYES_99'], quarantine_id: 1}],
  'reports.list': () => [{name: 'verdicts', kind: 'series', description: 'Messages by verdict per period'}, {name: 'top-senders', kind: 'top', description: 'Senders with the most mail'}],
  'reports.get': p => p.name === 'verdicts'
    ? Array.from({length: 7}, (_, i) => ({period: `2026-11-${19 + i}`, accept: 300 + i * 20, quarantine: 20 + i, reject: 5 + (i % 3)}))
    : [{sender: 'news@example.com', messages: 120}, {sender: xss, messages: 80}],
  'policy.show': () => ({file: '/etc/pmx/policy.toml', rules: 4, disabled: 0, warnings: []}),
  'policy.test': () => ({policy: '/etc/pmx/policy.toml', recipients: [{address: 'carol@example.test', verdict: 'quarantine', rule: 'hold'}]}),
  'config.show': p => [{key: 'queue.relay', value: '127.0.0.1:25', default: '', origin: '/etc/pmx/pmx.toml:3', type: 'string', apply: 'reload', doc: 'Where released mail goes'},
                       ...(p.changed ? [] : [{key: 'httpd.threads', value: 4, default: 4, origin: 'default', type: 'integer', apply: 'restart', doc: 'Threads'}])],
  'groups.list': () => groups,
  'web_users.list': () => [{address: 'carol@example.test', has_password: true, created: now}],
  'web_users.set_password': () => ({}), 'web_users.delete': () => ({}),
  'groups.save': p => { groups.splice(0, groups.length, ...groups.filter(g => g.name !== p.name), p); return {}; }, 'groups.delete': () => ({}), 'delegations.add': () => ({}), 'delegations.remove': () => ({}),
  'delegations.list': () => [{owner: 'sales@example.test', delegate: 'carol@example.test'}],
};

const signedIn = {};

function serve(realm) {
  return http.createServer((req, res) => {
    let body = '';
    req.on('data', c => { body += c; });
    req.on('end', () => {
      const send = (status, type, data, extra = {}) => { res.writeHead(status, {...headers, 'Content-Type': type, 'Cache-Control': 'no-store', ...extra}); res.end(data); };
      const url = new URL(req.url, 'http://x');
      if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/login' || url.pathname === '/index.html'))
        return send(200, types['.html'], fs.readFileSync(path.join(web, realm === 'admin' ? 'admin.html' : 'user.html')));
      if (req.method === 'GET' && url.pathname.startsWith('/assets/')) {
        const name = path.basename(url.pathname);
        const file = path.join(web, 'assets', name);
        if (fs.existsSync(file)) return send(200, types[path.extname(name)] || 'application/octet-stream', fs.readFileSync(file));
        return send(404, 'text/plain', 'not found');
      }
      if (req.method === 'POST' && url.pathname === '/api/login') {
        signedIn[realm] = (JSON.parse(body || '{}').name || '');
        const who = answers['session.whoami']({}, realm, signedIn[realm]);
        return send(200, 'application/json', JSON.stringify({csrf: 'dev-csrf', who}),
                    {'Set-Cookie': `pmx_${realm}_session=dev; Path=/; HttpOnly; Secure; SameSite=Strict`});
      }
      if (req.method === 'POST' && url.pathname === '/api/login-link') return send(200, 'application/json', '{"message":"If the address is known, a link is on its way."}');
      if (req.method === 'POST' && url.pathname === '/api/logout') return send(200, 'application/json', '{}', {'Set-Cookie': `pmx_${realm}_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict`});
      if (req.method === 'POST' && url.pathname === '/rpc') {
        if (!new RegExp(`pmx_${realm}_session=dev`).test(req.headers.cookie || '')) return send(401, 'application/json', '{"message":"Sign in first"}');
        const call = JSON.parse(body);
        const f = answers[call.method];
        const reply = f ? {jsonrpc: '2.0', id: call.id, result: f(call.params || {}, realm, signedIn[realm] || '')}
                        : {jsonrpc: '2.0', id: call.id, error: {code: -32601, message: `Unknown method ${call.method}`}};
        return send(200, 'application/json', JSON.stringify(reply));
      }
      send(404, 'text/plain', 'not found');
    });
  });
}
serve('admin').listen(adminPort, '127.0.0.1');
serve('user').listen(userPort, '127.0.0.1');
console.log(`admin page: http://127.0.0.1:${adminPort}/  user page: http://127.0.0.1:${userPort}/`);
