/* ui.js - the page's small tools: an element by id, the toast, a modal
 * dialog, a list row opened from the keyboard. */

export const $ = (id) => document.getElementById(id);

/* A list row reached with Tab and opened with Enter or Space. */
export function rowKeys(li, open) {
  li.tabIndex = 0;
  li.setAttribute('role', 'button');
  li.addEventListener('keydown', (ev) => {
    /* the arrows move along the list */
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      const next = ev.key === 'ArrowDown' ? li.nextElementSibling : li.previousElementSibling;
      if (next && next.tabIndex === 0) { ev.preventDefault(); next.focus(); }
      return;
    }
    if (ev.key !== 'Enter' && ev.key !== ' ') return;
    ev.preventDefault();
    open(true);
  });
}


/* A modal of its own (dialogs stack: a conflict opens over its form);
 * setup(body, close) wires it; resolves with close's argument. */
export function dialog(title, html, setup) {
  return new Promise((resolve) => {
    const modal = document.createElement('div');
    modal.className = 'modal';
    modal.innerHTML = '<div class="dialog" role="dialog" aria-modal="true"><h2></h2><div class="dbody"></div></div>';
    modal.querySelector('h2').textContent = title;
    const body = modal.querySelector('.dbody');
    body.innerHTML = html;
    document.body.appendChild(modal);
    const close = (result) => {
      modal.remove();
      document.removeEventListener('keydown', onKey);
      resolve(result);
    };
    const onKey = (ev) => { if (ev.key === 'Escape' && modal === [...document.querySelectorAll('.modal')].pop()) close(false); };
    document.addEventListener('keydown', onKey);
    setup(body, close);
  });
}

let toastTimer = null;
export function toast(text) {
  const t = $('toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 4000);
}
