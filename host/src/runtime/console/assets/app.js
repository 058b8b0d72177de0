// The shell's script: marks the current page in the navigation, loads the
// page's module and refreshes it every few seconds while the tab is
// visible (live updates by polling the admin API).

import { fill, h, toast } from './dom.js';

const PAGES = ['overview', 'messages', 'plugins', 'dead-letters', 'exceptions', 'reconcile'];
const POLL_MS = 3000;

function currentPage() {
  const name = window.location.pathname.replace(/^\/console\/?/, '').split('/')[0];
  return PAGES.includes(name) ? name : 'overview';
}

async function start() {
  const name = currentPage();
  for (const a of document.querySelectorAll('nav a[data-page]')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
  }
  const page = await import(`./${name}.js`);
  const title = document.getElementById('title');
  title.textContent = page.title;
  document.title = `${page.title} · Waybill console`;
  const root = document.getElementById('page');
  const live = document.getElementById('live');
  let refresh;
  try {
    refresh = await page.render(root);
    live.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    fill(root, h('p', { class: 'error', role: 'alert' }, `Could not load this page: ${e.message}`));
    return;
  }
  if (typeof refresh !== 'function') return;
  let busy = false;
  setInterval(async () => {
    if (document.hidden || busy) return;
    busy = true;
    try {
      await refresh();
      live.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
      live.textContent = `Update failed: ${e.message}`;
    } finally {
      busy = false;
    }
  }, POLL_MS);
}

window.addEventListener('unhandledrejection', (e) => toast(String(e.reason && e.reason.message || e.reason), true));
start();
