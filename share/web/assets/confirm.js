// Confirmation in a <dialog> of the page (never window.confirm: nothing the page shows comes
// from a browser dialog).
import {h} from './dom.js';

export function confirmAction(title, text, actionLabel = 'OK', danger = false) {
  return new Promise(resolve => {
    const ok = h('button', {type: 'button', class: danger ? 'danger' : 'primary'}, actionLabel);
    const cancel = h('button', {type: 'button'}, 'Cancel');
    const dlg = h('dialog', {class: 'confirm', 'aria-labelledby': 'confirm-title'},
      h('h2', {id: 'confirm-title'}, title),
      h('p', null, text),
      h('div', {class: 'actions'}, cancel, ok));
    const done = v => { dlg.close(); dlg.remove(); resolve(v); };
    ok.addEventListener('click', () => done(true));
    cancel.addEventListener('click', () => done(false));
    dlg.addEventListener('cancel', e => { e.preventDefault(); done(false); });
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
  });
}
