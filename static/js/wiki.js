/*
 * Notebook wiki: progressive enhancement, nothing more. Without this file every page is
 * plain HTML: the editor has a server-side Preview button, search is a GET form.
 *
 * What it adds:
 *   - the editor: a live preview rendered by the server, Ctrl/Cmd+S to save, Esc to close
 *     the preview, a question before leaving unsaved changes, and a draft kept in
 *     localStorage and offered back after a crash or a closed tab (kept per user, and
 *     forgotten when signing out); images pasted and files dropped into the text are
 *     uploaded to the page's files (the same form as /attachments/<slug>) and written in
 *     as Markdown at the cursor;
 *   - everywhere: "/" focuses the search box, and a key in [data-shortcut] clicks its
 *     element ("e" edits the page being read);
 *   - the header search box: a type-ahead list of page titles (an ARIA combobox).
 *
 * Every control that only works with JavaScript is created here.
 */
(function () {
  'use strict';

  const DRAFT_PREFIX = 'notebook:draft:'; // + user id + ':' + the editor's data-draft-key
  const SAVING_KEY = 'notebook:saving'; // sessionStorage: the draft whose form was just sent
  const PREVIEW_CHOICE_KEY = 'notebook:live-preview'; // "on" or "off"
  const PREVIEW_DELAY_MS = 400;
  const DRAFT_DELAY_MS = 500;
  const TITLES_DELAY_MS = 150;
  const WIDE_SCREEN = '(min-width: 64rem)';
  const NON_TEXT_INPUTS = new Set(['button', 'checkbox', 'color', 'file', 'hidden', 'image',
    'radio', 'range', 'reset', 'submit']);
  const IS_MAC = /Mac|iPhone|iPad/.test(navigator.platform);
  const MB = 1024 * 1024;
  // The extension of a pasted picture, from its type (the server checks the bytes anyway).
  const IMAGE_EXTENSIONS = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif',
    'image/webp': 'webp' };
  // What browsers call a picture copied to the clipboard (a screenshot, "Copy image").
  const UNNAMED_PICTURE = /^(image|blob)(\.\w+)?$/;

  // --- small helpers -------------------------------------------------------------------------

  // kind: 'localStorage' or 'sessionStorage'. Merely reading window[kind] throws where the
  // browser refuses storage, so it is read inside each function's try.
  function readItem(kind, key) {
    try {
      const store = window[kind];
      return store ? store.getItem(key) : null;
    } catch (error) {
      return null;
    }
  }

  function writeItem(kind, key, value) {
    try {
      const store = window[kind];
      if (store) store.setItem(key, value);
    } catch (error) {
      // Full or forbidden: the draft is a convenience, the form still works.
    }
  }

  function removeItem(kind, key) {
    try {
      const store = window[kind];
      if (store) store.removeItem(key);
    } catch (error) {
      // Nothing to do.
    }
  }

  function debounce(action, delay) {
    let timer = null;
    function debounced() {
      clearTimeout(timer);
      timer = setTimeout(action, delay);
    }
    debounced.cancel = function () {
      clearTimeout(timer);
    };
    return debounced;
  }

  /** An element with attributes (className and hidden as properties) and children. */
  function element(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name === 'className') node.className = value;
      else if (name === 'hidden') node.hidden = value;
      else node.setAttribute(name, value);
    }
    node.append(...children);
    return node;
  }

  /** Whether keys pressed in *target* are text being typed (so not shortcuts). */
  function isTypingIn(target) {
    if (!(target instanceof Element)) return false;
    if (target.isContentEditable) return true;
    if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
    return target instanceof HTMLInputElement && !NON_TEXT_INPUTS.has(target.type);
  }

  function hasModifier(event) {
    return event.altKey || event.ctrlKey || event.metaKey;
  }

  /** A same-site URL from *href*, or null: type-ahead answers must not send anyone away. */
  function sameSiteUrl(href) {
    try {
      const url = new URL(href, window.location.href);
      return url.origin === window.location.origin ? url : null;
    } catch (error) {
      return null;
    }
  }

  // --- keyboard shortcuts anywhere: "/" and [data-shortcut] ----------------------------------

  function onShortcutKey(event) {
    if (event.defaultPrevented || event.isComposing || hasModifier(event)) return;
    if (isTypingIn(event.target)) return;
    if (event.key === '/') {
      const searchBox = document.getElementById('site-search');
      if (searchBox) {
        event.preventDefault();
        searchBox.focus();
        searchBox.select();
      }
      return;
    }
    const target = document.querySelector(`[data-shortcut="${CSS.escape(event.key)}"]`);
    if (target) {
      event.preventDefault();
      target.click();
    }
  }

  function announceShortcuts() {
    for (const target of document.querySelectorAll('[data-shortcut]')) {
      target.setAttribute('aria-keyshortcuts', target.dataset.shortcut);
    }
    const searchBox = document.getElementById('site-search');
    if (searchBox) searchBox.setAttribute('aria-keyshortcuts', '/');
  }

  // --- boxes that scroll sideways (wide tables, long code lines) ------------------------------

  const SCROLL_BOXES = '.markdown pre, .markdown table, .table-scroll, .diff-scroll';

  /** Let keyboard users focus, and so scroll, each box that is wider than the screen. */
  function makeScrollBoxesFocusable(root) {
    for (const box of root.querySelectorAll(SCROLL_BOXES)) {
      const scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute('tabindex')) {
        box.tabIndex = 0;
        box.dataset.scrollBox = '';
      } else if (!scrolls && 'scrollBox' in box.dataset) {
        box.removeAttribute('tabindex');
        delete box.dataset.scrollBox;
      }
    }
  }

  // --- the editor: drafts ------------------------------------------------------------------------

  /** Where the signed-in user's draft of the editor *form* is kept (base.html's data-user). */
  function draftStorageKey(form) {
    return `${DRAFT_PREFIX}${document.body.dataset.user}:${form.dataset.draftKey}`;
  }

  /** After a save, the page view (marked with data-page-slug) forgets the saved draft. */
  function forgetSavedDraft() {
    const key = readItem('sessionStorage', SAVING_KEY);
    if (key === null) return;
    removeItem('sessionStorage', SAVING_KEY);
    if (document.querySelector('[data-page-slug]')) removeItem('localStorage', key);
  }

  /** Signing out forgets every draft kept in this browser: the next person here sees none. */
  function forgetDraftsOnSignOut() {
    const signOutPath = document.body.dataset.signOutUrl;
    document.addEventListener('submit', (event) => {
      const form = event.target;
      if (!signOutPath || new URL(form.action, window.location.href).pathname !== signOutPath) {
        return;
      }
      try {
        const store = window.localStorage;
        const drafts = Object.keys(store).filter((key) => key.startsWith(DRAFT_PREFIX));
        drafts.forEach((key) => store.removeItem(key));
      } catch (error) {
        // Storage refused: there are no drafts to forget.
      }
    });
  }

  function readDraft(storageKey) {
    try {
      const draft = JSON.parse(readItem('localStorage', storageKey));
      const valid = draft && typeof draft.title === 'string' && typeof draft.body === 'string'
        && typeof draft.savedAt === 'number';
      return valid ? draft : null;
    } catch (error) {
      return null;
    }
  }

  function draftTime(savedAt) {
    const when = new Date(savedAt);
    const label = when.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
    return element('time', { datetime: when.toISOString() }, label);
  }

  /** The "Restore your unsaved draft?" bar; *onRestore* and *onDiscard* run on its buttons. */
  function draftOffer(draft, onRestore, onDiscard) {
    const restore = element('button', { type: 'button', className: 'button button--primary' },
      'Restore');
    const discard = element('button', { type: 'button', className: 'button' }, 'Discard');
    const bar = element('section', { className: 'draft-offer', 'aria-label': 'Unsaved draft' },
      element('p', {}, 'Restore your unsaved draft from ', draftTime(draft.savedAt), '?'),
      element('div', { className: 'draft-offer__actions' }, restore, discard));
    restore.addEventListener('click', () => {
      bar.remove();
      onRestore();
    });
    discard.addEventListener('click', () => {
      bar.remove();
      onDiscard();
    });
    return bar;
  }

  // --- the editor: live preview ------------------------------------------------------------------

  /** A preview pane beside (wide screens) or under (phones) the text, and its toggle. */
  function setUpLivePreview(form, textarea) {
    const url = form.dataset.previewUrl;
    const tokenField = form.elements.namedItem('csrf_token');
    const bodyField = textarea.closest('.field');
    if (!url || !tokenField || !bodyField) return null;

    const output = element('div', { className: 'markdown' });
    const problem = element('p', { className: 'preview__problem', role: 'status' });
    const pane = element('section',
      { className: 'preview preview--live', id: 'live-preview', 'aria-label': 'Live preview',
        tabindex: '-1', hidden: true },
      element('h2', { className: 'preview__heading' }, 'Preview'), problem, output);
    const panes = element('div', { className: 'editor__panes' });
    bodyField.before(panes);
    panes.append(bodyField, pane);

    const toggle = element('button',
      { type: 'button', className: 'button editor__toggle', 'aria-pressed': 'false',
        'aria-controls': pane.id },
      'Live preview');
    const hint = element('p', { className: 'editor__hint' },
      `${IS_MAC ? '⌘S' : 'Ctrl+S'} saves · Esc closes the preview`);
    panes.before(element('div', { className: 'editor__toolbar' }, toggle, hint));

    let latest = 0;
    let controller = null;
    let stale = true;

    async function refresh() {
      const sequence = ++latest;
      if (controller) controller.abort();
      controller = new AbortController();
      stale = false;
      pane.setAttribute('aria-busy', 'true');
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'X-CSRFToken': tokenField.value, Accept: 'application/json' },
          body: new URLSearchParams({ body: textarea.value }),
          credentials: 'same-origin',
          signal: controller.signal,
        });
        const answer = await response.json().catch(() => ({}));
        if (sequence !== latest) return;
        if (response.ok && typeof answer.html === 'string') {
          output.innerHTML = answer.html; // sanitised by the server, as for every page
          problem.textContent = '';
          makeScrollBoxesFocusable(output);
        } else {
          problem.textContent = answer.detail
            || `The preview is not available (error ${response.status}).`;
        }
      } catch (error) {
        if (error.name !== 'AbortError' && sequence === latest) {
          problem.textContent = 'The preview is not available: the wiki did not answer.';
        }
      } finally {
        if (sequence === latest) pane.removeAttribute('aria-busy');
      }
    }

    const refreshSoon = debounce(refresh, PREVIEW_DELAY_MS);

    function isShown() {
      return !pane.hidden;
    }

    function show(shown) {
      pane.hidden = !shown;
      toggle.setAttribute('aria-pressed', String(shown));
      form.classList.toggle('editor--previewing', shown);
      if (shown && stale) refresh();
    }

    function onTextChanged() {
      stale = true;
      if (isShown()) refreshSoon();
    }

    toggle.addEventListener('click', () => {
      show(!isShown());
      writeItem('localStorage', PREVIEW_CHOICE_KEY, isShown() ? 'on' : 'off');
    });
    textarea.addEventListener('input', onTextChanged);

    const choice = readItem('localStorage', PREVIEW_CHOICE_KEY);
    show(choice ? choice === 'on' : window.matchMedia(WIDE_SCREEN).matches);
    return { isShown, show, onTextChanged };
  }

  // --- the editor: files pasted or dropped into the text --------------------------------------

  function twoDigits(number) {
    return String(number).padStart(2, '0');
  }

  /** A name for a picture pasted without one: pasted-2026-12-01-041233.png (local time). */
  function pastedName(file, when) {
    const date = [when.getFullYear(), twoDigits(when.getMonth() + 1), twoDigits(when.getDate())];
    const time = [when.getHours(), when.getMinutes(), when.getSeconds()].map(twoDigits);
    return `pasted-${date.join('-')}-${time.join('')}.${IMAGE_EXTENSIONS[file.type] || 'png'}`;
  }

  /** *name* made unique among *taken* (several pictures pasted in one second): name-2.png. */
  function unusedName(name, taken) {
    const dot = name.lastIndexOf('.');
    const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    let candidate = name;
    for (let count = 2; taken.has(candidate); count += 1) candidate = `${stem}-${count}${extension}`;
    taken.add(candidate);
    return candidate;
  }

  /** ![flow](flow.png) for an image, [talk](talk.pdf) for any other file the server stored. */
  function markdownFor(stored) {
    const dot = stored.name.lastIndexOf('.');
    const label = (dot > 0 ? stored.name.slice(0, dot) : stored.name)
      .replace(/[\\[\]*_`]/g, '\\$&');
    // Characters that would end or break a link target are written as %XX, which the
    // server reads back as the file's name.
    const target = stored.name.replace(/[()<>%\s]/g,
      (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
    const image = String(stored.media_type).startsWith('image/');
    return `${image ? '!' : ''}[${label}](${target})`;
  }

  function carriesFiles(event) {
    return Boolean(event.dataTransfer) && Array.from(event.dataTransfer.types).includes('Files');
  }

  /** The server's answer to one upload: {stored} or {problem}, a sentence for the user. */
  function uploadAnswer(request) {
    let answer = null;
    try {
      answer = JSON.parse(request.responseText);
    } catch (error) {
      answer = null;
    }
    if (request.status === 201 && answer && Array.isArray(answer.files) && answer.files.length) {
      return { stored: answer.files[0] };
    }
    if (answer && typeof answer.detail === 'string' && answer.detail) {
      return { problem: answer.detail };  // an RFC 9457 problem document
    }
    if (request.status === 401) return { problem: 'You are signed out. Sign in, then try again.' };
    if (request.status === 403) return { problem: 'You may not attach files to this page.' };
    return { problem: `The wiki could not store it (error ${request.status}).` };
  }

  /** Send *file* as *name* through the upload form's route; resolves to uploadAnswer's. */
  function sendFile(url, token, file, name, onProgress) {
    return new Promise((resolve) => {
      const request = new XMLHttpRequest();
      request.open('POST', url);
      request.setRequestHeader('Accept', 'application/json');
      request.upload.addEventListener('progress', (event) => {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      });
      request.addEventListener('load', () => resolve(uploadAnswer(request)));
      request.addEventListener('error', () => resolve(
        { problem: 'The wiki did not answer. Check the connection and try again.' }));
      const data = new FormData();
      data.append('csrf_token', token);
      data.append('file', file, name);
      request.send(data);
    });
  }

  /**
   * Paste and drop in the editor's *textarea*: each file gets a placeholder at the cursor at
   * once, is uploaded (one at a time, with a progress bar), and its placeholder becomes
   * its Markdown, or goes away with a message if the wiki refuses the file. Nothing else in
   * the text is touched. A page not saved yet has no files: the editor says so instead.
   */
  function setUpUploads(form, textarea) {
    const url = form.dataset.uploadUrl;
    const tokenField = form.elements.namedItem('csrf_token');
    const bodyField = textarea.closest('.field');
    if (!tokenField || !bodyField) return null;
    const maxMb = Number(form.dataset.maxUploadMb) || 0;

    const help = element('p', { className: 'field__help', id: 'body-files-help' }, url
      ? 'Paste a picture or drop files here to attach them to the page.'
      : 'Files can be attached once the page is saved.');
    const status = element('div', { className: 'uploads', role: 'status', 'aria-live': 'polite' });
    textarea.after(help);
    textarea.before(status); // above the text, where a long page's end would hide it
    const described = textarea.getAttribute('aria-describedby');
    textarea.setAttribute('aria-describedby', described ? `${described} ${help.id}` : help.id);

    const names = new Set(); // names given to pasted pictures while this editor is open
    const queue = [];
    let sending = false;

    function changed() {
      textarea.dispatchEvent(new Event('input', { bubbles: true })); // draft and preview
    }

    /** Replace the first *placeholder* in the text with *text*; the cursor stays where it
     * was in the text around it (after the placeholder: after *text*). */
    function replacePlaceholder(placeholder, text) {
      const start = textarea.value.indexOf(placeholder);
      if (start >= 0) {
        const end = start + placeholder.length;
        const moved = (at) => {
          if (at >= end) return at + text.length - placeholder.length;
          return at > start ? start + text.length : at;
        };
        const [from, to] = [moved(textarea.selectionStart), moved(textarea.selectionEnd)];
        textarea.setRangeText(text, start, end);
        textarea.setSelectionRange(from, to);
      } else if (text) { // the placeholder was edited away: write the file in at the cursor
        textarea.setRangeText(text, textarea.selectionStart, textarea.selectionEnd, 'end');
      }
      changed();
    }

    /** Lines of uploads that are over make room for the next ones. */
    function clearFinished() {
      for (const line of status.querySelectorAll('.upload:not(.upload--pending)')) line.remove();
    }

    function report(line, text, problem) {
      line.replaceChildren(text);
      line.classList.remove('upload--pending');
      line.classList.toggle('upload--failed', problem);
      if (problem) line.scrollIntoView({ block: 'nearest' });
    }

    function say(text) {
      clearFinished();
      const line = element('p', { className: 'upload' });
      status.append(line);
      report(line, text, true);
    }

    async function sendNext() {
      if (sending || !queue.length) return;
      sending = true;
      const item = queue.shift();
      const progress = item.line.querySelector('progress');
      const answer = await sendFile(url, tokenField.value, item.file, item.name,
        (fraction) => { progress.value = Math.round(fraction * 100); });
      if (answer.stored) {
        replacePlaceholder(item.placeholder, markdownFor(answer.stored));
        report(item.line, `Attached ${answer.stored.name}.`, false);
      } else {
        replacePlaceholder(item.placeholder, '');
        report(item.line, `Could not attach ${item.name}: ${answer.problem}`, true);
      }
      sending = false;
      sendNext();
    }

    /** Start uploading *files* ([{file, name}]), each marked in the text where the cursor is. */
    function attach(files) {
      if (!url) {
        say('Save the page first: files are attached to a saved page. Your text is unchanged.');
        return;
      }
      clearFinished();
      const placeholders = [];
      for (const { file, name } of files) {
        if (maxMb && file.size > maxMb * MB) { // refused before spending the time to send it
          const line = element('p', { className: 'upload' });
          status.append(line);
          report(line, `Could not attach ${name}: files may be up to ${maxMb} MB each.`, true);
          continue;
        }
        const placeholder = `![Uploading ${name}…]()`;
        const progress = element('progress', { max: '100', value: '0',
          'aria-label': `Uploading ${name}` });
        const line = element('p', { className: 'upload upload--pending' },
          `Uploading ${name}… `, progress);
        status.append(line);
        placeholders.push(placeholder);
        queue.push({ file, name, placeholder, line });
      }
      if (!placeholders.length) return;
      textarea.setRangeText(placeholders.join('\n'), textarea.selectionStart,
        textarea.selectionEnd, 'end');
      textarea.focus(); // a drop may come while the focus is elsewhere
      changed();
      sendNext();
    }

    function onPaste(event) {
      const data = event.clipboardData;
      const files = data ? Array.from(data.files) : [];
      // Text wins: a copied paragraph or table often comes with a picture of itself.
      if (!files.length || data.getData('text/plain')) return;
      event.preventDefault();
      const now = new Date();
      attach(files.map((file) => ({ file,
        name: !file.name || UNNAMED_PICTURE.test(file.name)
          ? unusedName(pastedName(file, now), names) : file.name })));
    }

    function onDragOver(event) {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
      textarea.classList.add('is-dropping');
    }

    function onDrop(event) {
      textarea.classList.remove('is-dropping');
      if (!carriesFiles(event)) return;
      event.preventDefault();
      attach(Array.from(event.dataTransfer.files).map((file) => ({ file, name: file.name })));
    }

    textarea.addEventListener('paste', onPaste);
    textarea.addEventListener('dragover', onDragOver);
    textarea.addEventListener('dragleave', () => textarea.classList.remove('is-dropping'));
    textarea.addEventListener('drop', onDrop);
    // A file dropped beside the text would otherwise replace the editor with the file.
    for (const type of ['dragover', 'drop']) {
      window.addEventListener(type, (event) => {
        if (carriesFiles(event) && !event.defaultPrevented) event.preventDefault();
      });
    }
    return {
      busy: () => sending || queue.length > 0,
      say,
    };
  }

  // --- the editor ---------------------------------------------------------------------------------

  function setUpEditor(form) {
    const fields = form.elements;
    const title = fields.namedItem('title'); // none when editing one section
    const body = fields.namedItem('body');
    const base = fields.namedItem('base_revision');
    const saveButton = fields.namedItem('submit');
    const serverPreviewButton = fields.namedItem('preview');
    if (!body || !saveButton) return;

    const storageKey = draftStorageKey(form);
    const tracked = ['title', 'body', 'summary', 'tags']
      .map((name) => fields.namedItem(name)).filter(Boolean);
    const initial = tracked.map((field) => field.value);
    let submitting = false;
    let offered = null; // a draft from an earlier visit, not yet restored or discarded

    const preview = setUpLivePreview(form, body);
    const uploads = setUpUploads(form, body);
    if (preview && serverPreviewButton) serverPreviewButton.hidden = true;
    saveButton.setAttribute('aria-keyshortcuts', IS_MAC ? 'Meta+S' : 'Control+S');

    function isDirty() {
      return tracked.some((field, index) => field.value !== initial[index]);
    }

    function storeDraft() {
      if (isDirty()) {
        const draft = { title: title ? title.value : '', body: body.value,
          base: base ? base.value : '', savedAt: Date.now() };
        writeItem('localStorage', storageKey, JSON.stringify(draft));
      } else if (!offered) {
        removeItem('localStorage', storageKey);
      }
    }

    const storeDraftSoon = debounce(storeDraft, DRAFT_DELAY_MS);

    function restore(draft) {
      if (title) title.value = draft.title;
      body.value = draft.body;
      if (base && draft.base) base.value = draft.base; // an old base lets the server merge
      offered = null;
      storeDraft();
      if (preview) preview.onTextChanged();
      body.focus();
    }

    function discard() {
      offered = null;
      storeDraft();
      body.focus();
    }

    function offerEarlierDraft() {
      const draft = readDraft(storageKey);
      if (!draft || (draft.title === (title ? title.value : '') && draft.body === body.value)) {
        return;
      }
      offered = draft;
      form.prepend(draftOffer(draft, () => restore(draft), discard));
    }

    function onKeydown(event) {
      const key = event.key.toLowerCase();
      if ((event.ctrlKey || event.metaKey) && !event.altKey && key === 's') {
        event.preventDefault();
        form.requestSubmit(saveButton);
      } else if (event.key === 'Escape' && preview && preview.isShown()
                 && form.contains(event.target)) {
        event.preventDefault();
        preview.show(false);
        body.focus();
      }
    }

    function onSubmit(event) {
      if (event.submitter && event.submitter !== saveButton) return; // the server's Preview
      if (uploads && uploads.busy()) { // saving now would keep "Uploading…" in the text
        event.preventDefault();
        uploads.say('Files are still uploading: save once they are attached.');
        return;
      }
      submitting = true;
      storeDraftSoon.cancel();
      storeDraft();
      writeItem('sessionStorage', SAVING_KEY, storageKey);
    }

    function onBeforeUnload(event) {
      if (submitting || !isDirty()) return;
      storeDraft();
      event.preventDefault();
      event.returnValue = ''; // older browsers need it to ask
    }

    form.addEventListener('input', storeDraftSoon);
    form.addEventListener('submit', onSubmit);
    document.addEventListener('keydown', onKeydown);
    window.addEventListener('beforeunload', onBeforeUnload);
    window.addEventListener('pagehide', () => {
      if (!submitting) storeDraft();
    });
    window.addEventListener('pageshow', (event) => {
      if (event.persisted) submitting = false; // back from the cache after leaving
    });
    offerEarlierDraft();
  }

  // --- the header search box: type-ahead titles ----------------------------------------------

  function setUpTypeahead(input) {
    const titlesUrl = input.dataset.titlesUrl;
    const form = input.form;
    if (!titlesUrl || !form) return;

    const list = element('ul',
      { id: 'site-search-titles', role: 'listbox', className: 'typeahead',
        'aria-label': 'Matching pages', hidden: true });
    const status = element('p', { className: 'visually-hidden', role: 'status' });
    form.append(list, status);
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.setAttribute('aria-controls', list.id);

    let matches = [];
    let active = -1;
    let latest = 0;

    function isOpen() {
      return !list.hidden;
    }

    function close() {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
      active = -1;
    }

    function setActive(index) {
      active = index;
      list.querySelectorAll('[role="option"]').forEach((option, i) => {
        option.setAttribute('aria-selected', String(i === index));
      });
      const option = document.getElementById(`site-search-title-${index}`);
      if (option) {
        input.setAttribute('aria-activedescendant', option.id);
        option.scrollIntoView({ block: 'nearest' });
      } else {
        input.removeAttribute('aria-activedescendant');
      }
    }

    function nextIndex(index) {
      return (index + 1) % matches.length;
    }

    function previousIndex(index) {
      return index <= 0 ? matches.length - 1 : index - 1;
    }

    function go(index) {
      const url = matches[index] && sameSiteUrl(matches[index].url);
      if (url) window.location.assign(url.href);
    }

    function show(found) {
      // A later answer (typing went on) keeps the option the reader has arrowed to.
      const chosen = active >= 0 && matches[active] ? matches[active].url : null;
      matches = found;
      list.replaceChildren(...found.map((match, index) => {
        const option = element('li', { id: `site-search-title-${index}`, role: 'option',
          'aria-selected': 'false', className: 'typeahead__option' }, match.title);
        option.addEventListener('click', () => go(index));
        return option;
      }));
      active = -1;
      input.removeAttribute('aria-activedescendant');
      const count = found.length;
      status.textContent = count ? `${count} page${count === 1 ? '' : 's'} match.` : '';
      list.hidden = count === 0;
      input.setAttribute('aria-expanded', String(count > 0));
      const kept = chosen ? found.findIndex((match) => match.url === chosen) : -1;
      if (kept >= 0) setActive(kept);
    }

    async function lookUp() {
      const query = input.value.trim();
      const sequence = ++latest;
      if (!query) {
        show([]);
        return;
      }
      const url = new URL(titlesUrl, window.location.href);
      url.searchParams.set('q', query);
      try {
        const response = await fetch(url, { headers: { Accept: 'application/json' },
          credentials: 'same-origin' });
        const found = response.ok ? await response.json() : [];
        if (sequence === latest && document.activeElement === input) {
          show(Array.isArray(found) ? found.filter((m) => m && m.title && m.url) : []);
        }
      } catch (error) {
        if (sequence === latest) show([]); // the plain search still works
      }
    }

    function onKeydown(event) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        if (!matches.length) return;
        event.preventDefault();
        if (!isOpen()) {
          list.hidden = false;
          input.setAttribute('aria-expanded', 'true');
        }
        setActive(event.key === 'ArrowDown' ? nextIndex(active) : previousIndex(active));
      } else if (event.key === 'Enter' && isOpen() && active >= 0) {
        event.preventDefault();
        go(active);
      } else if (event.key === 'Escape' && isOpen()) {
        event.preventDefault();
        event.stopPropagation();
        close();
      }
    }

    input.addEventListener('input', debounce(lookUp, TITLES_DELAY_MS));
    input.addEventListener('keydown', onKeydown);
    input.addEventListener('blur', close);
    list.addEventListener('mousedown', (event) => event.preventDefault()); // keep the focus
  }

  // --- start ----------------------------------------------------------------------------------

  function start() {
    forgetSavedDraft();
    forgetDraftsOnSignOut();
    announceShortcuts();
    makeScrollBoxesFocusable(document);
    window.addEventListener('resize', debounce(() => makeScrollBoxesFocusable(document), 200));
    document.addEventListener('keydown', onShortcutKey);
    const editor = document.querySelector('form.editor[data-draft-key]');
    if (editor) setUpEditor(editor);
    const searchBox = document.getElementById('site-search');
    if (searchBox) setUpTypeahead(searchBox);
  }

  start();
}());
