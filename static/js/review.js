// Reviewing cards without reloading the page: "Show answer" and the grade buttons work as
// plain links and forms; this script does the same requests with fetch and swaps the card in
// place. The keys (Space, 1-4) come from wiki.js's data-shortcut, which clicks them.
(function () {
  'use strict';

  const SECTION = '[data-review]';

  /** Put the review section of the page at *url* (fetched as HTML) in place of ours. */
  async function showPage(url) {
    const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
    if (!response.ok) throw new Error(`${response.status}`);
    const html = await response.text();
    const fresh = new DOMParser().parseFromString(html, 'text/html');
    const incoming = fresh.querySelector(SECTION);
    const current = document.querySelector(SECTION);
    if (!incoming || !current) throw new Error('no review section');
    current.replaceWith(document.importNode(incoming, true));
    document.title = fresh.title;
    window.history.replaceState(null, '', response.url || url);
    focusAfterSwap();
  }

  /** Keyboard and screen reader users land on what changed: the answer, else the heading. */
  function focusAfterSwap() {
    const answer = document.getElementById('review-answer');
    const heading = document.getElementById('review-heading');
    const target = answer || heading;
    if (!target) return;
    if (!target.hasAttribute('tabindex')) target.tabIndex = -1;
    target.focus({ preventScroll: false });
    for (const element of document.querySelectorAll(`${SECTION} [data-shortcut]`)) {
      element.setAttribute('aria-keyshortcuts', element.dataset.shortcut === ' ' ? 'Space'
        : element.dataset.shortcut);
    }
  }

  function onClick(event) {
    const link = event.target.closest('a[data-review-show]');
    if (!link || event.defaultPrevented || event.button !== 0 || event.ctrlKey
        || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    showPage(link.href).catch(() => { window.location.href = link.href; });
  }

  let grading = false;

  async function grade(form, submitter) {
    const body = new FormData(form, submitter);
    const response = await fetch(form.action, {
      method: 'POST', body, credentials: 'same-origin', headers: { Accept: 'application/json' },
    });
    if (!response.ok) throw new Error(`${response.status}`);
    const answer = await response.json();
    await showPage(answer.next);
  }

  function onSubmit(event) {
    const form = event.target.closest('form[data-review-grade]');
    if (!form || event.defaultPrevented) return;
    event.preventDefault();
    if (grading) return; // one grade per card, however fast the keys come
    grading = true;
    const submitter = event.submitter;
    grade(form, submitter)
      .catch(() => {
        // The plain form tells the user what went wrong (an expired session, say).
        if (submitter) {
          const field = document.createElement('input');
          field.type = 'hidden';
          field.name = submitter.name;
          field.value = submitter.value;
          form.append(field);
        }
        form.submit();
      })
      .finally(() => { grading = false; });
  }

  document.addEventListener('click', onClick);
  document.addEventListener('submit', onSubmit);
  if (document.getElementById('review-answer')) focusAfterSwap();
}());
