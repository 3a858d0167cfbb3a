// Sign-in: name (or mail address) and password; on the end-user page also "mail me a link".
import {h, field, input, notice} from './dom.js';
import {login, requestLoginLink} from './rpc.js';

export function signinForm({realm, title, message, onSignedIn}) {
  const status = h('p', {class: 'notice', role: 'status', hidden: true});
  if (message) notice(status, message, 'info');
  const name = input('name', {required: true, autocomplete: 'username', autofocus: true});
  const password = input('password', {type: 'password', required: true, autocomplete: 'current-password'});
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Sign in');
  const form = h('form', {class: 'signin-form', id: 'signin'},
    field(realm === 'admin' ? 'Account name or mail address' : 'Mail address', name),
    field('Password', password),
    h('div', {class: 'actions'}, submit));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    submit.disabled = true;
    notice(status, 'Signing in…');
    try {
      const who = await login(name.value.trim(), password.value);
      password.value = '';
      onSignedIn(who);
    } catch (err) {
      notice(status, err.message, 'error');
      password.select();
    } finally {
      submit.disabled = false;
    }
  });

  let linkPart = null;
  if (realm === 'user') {
    const address = input('address', {type: 'email', required: true, autocomplete: 'email'});
    const send = h('button', {type: 'submit'}, 'Mail me a sign-in link');
    const linkForm = h('form', {class: 'signin-form', id: 'signin-link'},
      field('Mail address', address), h('div', {class: 'actions'}, send));
    linkForm.addEventListener('submit', async e => {
      e.preventDefault();
      send.disabled = true;
      try { notice(status, await requestLoginLink(address.value.trim()), 'ok'); }
      catch (err) { notice(status, err.message, 'error'); }
      finally { send.disabled = false; }
    });
    linkPart = [h('p', {class: 'or'}, 'No password? We can mail you a link that signs you in.'), linkForm];
  }

  return h('div', {class: 'signin'},
    h('div', {class: 'card'},
      h('div', {class: 'brand'}, h('img', {src: '/assets/logo.svg', alt: '', width: 36, height: 36}),
        h('h1', null, title)),
      status, form, linkPart));
}
