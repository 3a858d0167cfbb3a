// The end user's settings: digest opt-out and password.
import {h, replace, field, input, notice, spinner} from './dom.js';
import {rpc} from './rpc.js';
import {details} from './table.js';
import {viewTitle} from './shell.js';

export async function render(el) {
  const status = h('p', {class: 'notice', role: 'status', hidden: true});
  replace(el, viewTitle('Settings'), spinner());
  let s;
  try { s = await rpc('user.settings'); }
  catch (e) { replace(el, viewTitle('Settings'), h('p', {class: 'notice error', role: 'alert'}, e.message)); return; }

  const optOut = h('input', {type: 'checkbox', name: 'digest', id: 'digest-opt-out', checked: !!s.digest_opt_out});
  optOut.addEventListener('change', async () => {
    try {
      const r = await rpc('user.set_digest', {opt_out: optOut.checked});
      optOut.checked = !!r.digest_opt_out;
      notice(status, r.digest_opt_out ? 'You will get no more quarantine digests.' : 'You will get quarantine digests again.', 'ok');
    } catch (e) { optOut.checked = !optOut.checked; notice(status, e.message, 'error'); }
  });

  const current = input('current', {type: 'password', autocomplete: 'current-password'});
  const next = input('new', {type: 'password', required: true, autocomplete: 'new-password', minlength: 8});
  const again = input('again', {type: 'password', required: true, autocomplete: 'new-password'});
  const pwForm = h('form', {id: 'password-form'},
    s.has_password ? field('Current password', current) : h('p', {class: 'muted'}, 'You have no password yet: you sign in with mailed links. Set one here if you like.'),
    field('New password', next, 'At least 8 characters'), field('New password again', again),
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, 'Change password')));
  pwForm.addEventListener('submit', async e => {
    e.preventDefault();
    if (next.value !== again.value) { notice(status, 'The two new passwords differ.', 'error'); return; }
    const p = {new: next.value};
    if (s.has_password) p.current = current.value;
    try {
      await rpc('user.set_password', p);
      pwForm.reset();
      s.has_password = true;
      notice(status, 'Your password is changed.', 'ok');
    } catch (err) { notice(status, err.message, 'error'); }
  });

  replace(el, viewTitle('Settings'), status,
    h('section', {class: 'card'}, h('h2', null, 'Your addresses'),
      details([['Address', s.address], ['Also shown', (s.addresses || []).filter(a => a !== s.address).join(', ') || '–']])),
    h('section', {class: 'card'}, h('h2', null, 'Quarantine digest'),
      h('p', {class: 'muted'}, 'A digest lists mail held for you, with links to release it.'),
      h('div', {class: 'check-field'}, optOut, h('label', {for: 'digest-opt-out'}, 'Do not send me quarantine digests'))),
    h('section', {class: 'card'}, h('h2', null, 'Password'), pwForm));
}
