// The end-user page: one's own quarantine, allow/block lists and settings.
import {startApp} from './shell.js';

const always = () => true;

startApp({
  realm: 'user',
  title: 'My mail quarantine',
  views: [
    {id: 'quarantine', title: 'Quarantine', allow: always, load: () => import('./view-quarantine.js')},
    {id: 'lists', title: 'Allow and block lists', allow: always, load: () => import('./view-lists.js')},
    {id: 'settings', title: 'Settings', allow: always, load: () => import('./view-settings.js')},
  ],
});
