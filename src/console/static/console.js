// Baton's console in the browser: a cell opens its task's panel, a bar its run's, a group row
// folds and unfolds (and stays so when the grid refreshes), and the arrow keys move between cells.
// htmx does the requests; this file only wires the grid.
'use strict';
(function () {
  const opened = new Set();
  const dagPath = () => document.querySelector('#grid')?.dataset.dag ?? '';
  const path = (...parts) => parts.map(encodeURIComponent).join('/');

  function openPanel(url, from) {
    document.querySelectorAll('#grid [aria-pressed="true"]').forEach((b) => b.setAttribute('aria-pressed', 'false'));
    if (from) from.setAttribute('aria-pressed', 'true');
    window.htmx.ajax('GET', url, { target: '#panel', swap: 'innerHTML' });
  }

  function applyFolds() {
    document.querySelectorAll('#grid tr[data-member-of]').forEach((row) => {
      row.hidden = !opened.has(row.getAttribute('data-member-of'));
    });
    document.querySelectorAll('#grid .fold').forEach((b) => b.setAttribute('aria-expanded', String(opened.has(b.dataset.group))));
  }

  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const cell = target?.closest('#grid button.c');
    const run = target?.closest('#grid button.run');
    const fold = target?.closest('#grid button.fold');
    const dag = dagPath();
    if (cell) openPanel(`/dags/${path(dag)}/runs/${path(cell.dataset.run)}/tasks/${path(cell.dataset.task)}`, cell);
    else if (run) openPanel(`/dags/${path(dag)}/runs/${path(run.dataset.run)}`, run);
    else if (fold) {
      const group = fold.dataset.group;
      if (opened.has(group)) opened.delete(group);
      else opened.add(group);
      applyFolds();
    }
  });

  // The grid refreshes itself: keep what was unfolded and which cell was open.
  document.addEventListener('htmx:afterSwap', (event) => {
    if (!(event.target instanceof Element) || event.target.id !== 'grid') return;
    applyFolds();
  });

  // Arrow keys move between the grid's cells.
  document.addEventListener('keydown', (event) => {
    const cell = event.target instanceof Element ? event.target.closest('#grid td') : null;
    if (!cell || !['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'].includes(event.key)) return;
    const row = cell.parentElement;
    const column = Array.prototype.indexOf.call(row.children, cell);
    let next = null;
    if (event.key === 'ArrowLeft') next = cell.previousElementSibling;
    if (event.key === 'ArrowRight') next = cell.nextElementSibling;
    let other = row;
    while (!next && (event.key === 'ArrowUp' || event.key === 'ArrowDown')) {
      other = event.key === 'ArrowUp' ? other.previousElementSibling : other.nextElementSibling;
      if (!other) break;
      if (!other.hidden) next = other.children[column];
    }
    const button = next?.querySelector('button');
    if (button) {
      event.preventDefault();
      button.focus();
    }
  });
})();
