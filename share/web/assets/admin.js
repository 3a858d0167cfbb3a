// The Manager (admin interface): which views exist and who sees them. Group administrators
// see the views their rights allow (session.whoami); administrators see everything.
import {startApp, hasRight} from './shell.js';

const admin = who => who.kind === 'admin';
const right = r => who => hasRight(who, r);

startApp({
  realm: 'admin',
  title: 'pmx Manager',
  views: [
    {id: 'dashboard', title: 'Dashboard', allow: admin, load: () => import('./view-dashboard.js')},
    {id: 'quarantine', title: 'Quarantine', allow: right('quarantine'), load: () => import('./view-quarantine.js')},
    {id: 'lists', title: 'Lists', allow: right('lists'), load: () => import('./view-lists.js')},
    {id: 'policy', title: 'Policy', allow: right('policy'), load: () => import('./view-policy.js')},
    {id: 'log', title: 'Message log', allow: right('reports'), load: () => import('./view-log.js')},
    {id: 'reports', title: 'Reports', allow: right('reports'), load: () => import('./view-reports.js')},
    {id: 'jobs', title: 'Jobs', allow: admin, load: () => import('./view-jobs.js')},
    {id: 'ipblock', title: 'IP blocker', allow: admin, load: () => import('./view-ipblock.js')},
    {id: 'services', title: 'Services', allow: admin, load: () => import('./view-services.js')},
    {id: 'config', title: 'Configuration', allow: admin, load: () => import('./view-config.js')},
    {id: 'groups', title: 'Groups', allow: admin, load: () => import('./view-groups.js')},
  ],
});
