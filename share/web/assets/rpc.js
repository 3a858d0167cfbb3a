// The JSON RPC client both pages use (see pmx-rpc(7)): POST /rpc with the session's CSRF token
// in X-PMX-CSRF, the session cookie sent by the browser (HttpOnly: scripts never see it).
// A 401 (no or expired session) or 403 (CSRF token lost) sends the page back to sign-in.
const CSRF_KEY = 'pmx.csrf';
let csrf = sessionStorage.getItem(CSRF_KEY) || '';
let seq = 0;

export class RpcError extends Error {
  constructor(message, code = -32000, status = 200) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

function setCsrf(token) {
  csrf = token || '';
  if (csrf) sessionStorage.setItem(CSRF_KEY, csrf);
  else sessionStorage.removeItem(CSRF_KEY);
}

export function hasCsrf() { return csrf !== ''; }

function signedOut(message) {
  setCsrf('');
  window.dispatchEvent(new CustomEvent('pmx:signed-out', {detail: message}));
}

async function post(path, body, withCsrf) {
  const headers = {'Content-Type': 'application/json', 'Accept': 'application/json'};
  if (withCsrf && csrf) headers['X-PMX-CSRF'] = csrf;
  let response;
  try {
    response = await fetch(path, {method: 'POST', credentials: 'same-origin', cache: 'no-store', headers,
                                  body: JSON.stringify(body)});
  } catch (e) {
    throw new RpcError('The server did not answer: ' + e.message, -32000, 0);
  }
  let data = null;
  const text = await response.text();
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  return {response, data, text};
}

function httpMessage(status, data, text) {
  if (data && typeof data.message === 'string') return data.message;
  if (data && data.error && typeof data.error.message === 'string') return data.error.message;
  if (status === 413) return 'The request is too large';
  if (status === 429) return 'Too many attempts: wait a few minutes and try again';
  return `HTTP ${status}` + (text && text.length < 200 && !data ? `: ${text}` : '');
}

// Calls method; resolves to its result, rejects with RpcError.
export async function rpc(method, params = {}) {
  const {response, data, text} = await post('/rpc', {jsonrpc: '2.0', id: ++seq, method, params}, true);
  if (response.status === 401 || response.status === 403) {
    const message = response.status === 401 ? 'Your session has ended: please sign in again'
                                            : 'Your session is no longer valid here: please sign in again';
    signedOut(message);
    throw new RpcError(message, -32001, response.status);
  }
  if (!response.ok || !data) throw new RpcError(httpMessage(response.status, data, text), -32000, response.status);
  if (data.error) throw new RpcError(data.error.message || 'Failed', data.error.code, 200);
  return data.result;
}

// The signed-in caller ({name, kind, realm, rights, scope, csrf}), or null without a session.
// GET /api/session needs no CSRF token and hands it over, so a tab that does not know it yet
// (a fresh one, or after a sign-in link) picks up the session the browser already has.
export async function whoami() {
  let response;
  try {
    response = await fetch('/api/session', {method: 'GET', credentials: 'same-origin', cache: 'no-store',
                                            headers: {'Accept': 'application/json'}});
  } catch (e) {
    throw new RpcError('The server did not answer: ' + e.message, -32000, 0);
  }
  if (response.status === 401 || response.status === 403) { setCsrf(''); return null; }
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok || !data || !data.who) throw new RpcError(httpMessage(response.status, data, ''), -32000, response.status);
  setCsrf(data.csrf);
  return {...data.who, csrf: data.csrf};
}

export async function login(name, password) {
  const {response, data, text} = await post('/api/login', {name, password}, false);
  if (!response.ok || !data) {
    const fallback = {401: 'Wrong name or password', 403: 'This account may not sign in here'}[response.status];
    throw new RpcError(data && data.message ? data.message : fallback || httpMessage(response.status, data, text),
                       -32001, response.status);
  }
  setCsrf(data.csrf);
  return data.who;
}

export async function requestLoginLink(address) {
  const {response, data, text} = await post('/api/login-link', {address}, false);
  if (!response.ok) throw new RpcError(httpMessage(response.status, data, text), -32000, response.status);
  return data && data.message ? data.message : 'If the address is known, a sign-in link is on its way.';
}

export async function logout() {
  try { await post('/api/logout', {}, true); } finally { setCsrf(''); }
}
