/*
 * Notebook wiki: Mermaid diagrams. A ```mermaid block arrives from the server as its source
 * in a <div class="diagram">, which is what readers without JavaScript see. This file draws
 * each one with the vendored Mermaid (static/vendor/mermaid, `make mermaid`), which it loads
 * only when the page has a diagram: the page view includes this file only then, the editor
 * always, for its live preview.
 *
 *   - dark mode (prefers-color-scheme) draws with Mermaid's dark theme, and a change of
 *     scheme draws again;
 *   - a diagram Mermaid cannot read keeps its source on show, with Mermaid's message under it;
 *   - in the editor's live preview, which wiki.js replaces as the text changes, diagrams are
 *     drawn once the typing pauses, and a diagram already drawn is not drawn again.
 */
(function () {
  'use strict';

  const MERMAID_URL = document.currentScript.dataset.mermaidUrl;
  const IDLE_MS = 600; // after the last change to the page, before drawing
  const darkScheme = window.matchMedia('(prefers-color-scheme: dark)');
  // The dark theme's edge labels are #ccc on #585858, short of WCAG's 4.5:1 contrast.
  const DARK_THEME = { edgeLabelBackground: '#333333' };
  const drawings = new Map(); // theme + source → Mermaid's SVG, or its error
  let mermaidLoaded = null;
  let drawn = 0; // for the ids Mermaid gives its drawings

  function loadMermaid() {
    if (!mermaidLoaded) {
      mermaidLoaded = new Promise(function (resolve, reject) {
        const script = document.createElement('script');
        script.src = MERMAID_URL;
        script.onload = function () { resolve(window.mermaid); };
        script.onerror = function () {
          mermaidLoaded = null;
          reject(new Error('the diagram library could not be loaded'));
        };
        document.head.appendChild(script);
      });
    }
    return mermaidLoaded;
  }

  function theme() {
    return darkScheme.matches ? 'dark' : 'default';
  }

  /** Mermaid's SVG for *source*, or throws its error; each source is drawn once per theme. */
  async function drawing(mermaid, source) {
    const key = `${theme()}\n${source}`;
    if (!drawings.has(key)) {
      drawn += 1;
      try {
        const { svg } = await mermaid.render(`diagram-${drawn}`, source);
        drawings.set(key, { svg });
      } catch (error) {
        drawings.set(key, { error: String((error && error.message) || error) });
      }
    }
    const result = drawings.get(key);
    if (result.error) throw new Error(result.error);
    return result.svg;
  }

  /** The parts of a diagram's box: its source (kept), the drawing and the error message. */
  function partsOf(box) {
    let picture = box.querySelector('.diagram__drawing');
    let problem = box.querySelector('.diagram__error');
    if (!picture) {
      picture = document.createElement('div');
      picture.className = 'diagram__drawing';
      picture.hidden = true;
      problem = document.createElement('p');
      problem.className = 'diagram__error';
      problem.hidden = true;
      box.append(picture, problem);
    }
    return { source: box.querySelector('.diagram__source'), picture, problem };
  }

  async function draw(box, mermaid) {
    const { source, picture, problem } = partsOf(box);
    box.dataset.theme = theme();
    try {
      picture.innerHTML = await drawing(mermaid, source.textContent); // sanitised by Mermaid
      const svg = picture.querySelector('svg');
      if (svg) {
        svg.setAttribute('role', 'img');
        svg.setAttribute('aria-label', 'Diagram');
      }
      picture.hidden = false;
      source.hidden = true;
      problem.hidden = true;
    } catch (error) {
      picture.hidden = true;
      source.hidden = false;
      problem.textContent = `This diagram could not be drawn: ${error.message}`;
      problem.hidden = false;
    }
  }

  /** Draw every diagram not yet drawn in the current theme. */
  async function drawAll() {
    const boxes = Array.from(document.querySelectorAll('.diagram'))
      .filter(function (box) { return box.dataset.theme !== theme(); });
    if (!boxes.length) return;
    boxes.forEach(function (box) { box.dataset.theme = theme(); }); // not twice at once
    let mermaid;
    try {
      mermaid = await loadMermaid();
    } catch (error) {
      boxes.forEach(function (box) { delete box.dataset.theme; });
      return; // the sources stay on show, as without JavaScript
    }
    // strict: labels are text, no clicks run script; Mermaid sanitises what it draws.
    mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: theme(),
      themeVariables: theme() === 'dark' ? DARK_THEME : {}, suppressErrorRendering: true });
    for (const box of boxes) {
      if (box.isConnected) await draw(box, mermaid); // one at a time: Mermaid is not reentrant
    }
  }

  let pending = null;
  function drawWhenIdle() {
    clearTimeout(pending);
    pending = setTimeout(function () {
      if (window.requestIdleCallback) window.requestIdleCallback(drawAll, { timeout: 2000 });
      else drawAll();
    }, IDLE_MS);
  }

  drawAll();
  darkScheme.addEventListener('change', drawAll);
  // The live preview is replaced as the author types: draw its diagrams when typing pauses.
  new MutationObserver(function (changes) {
    const added = changes.some(function (change) {
      return Array.from(change.addedNodes).some(function (node) {
        return node.nodeType === Node.ELEMENT_NODE
          && (node.matches('.diagram') || node.querySelector('.diagram'));
      });
    });
    if (added) drawWhenIdle();
  }).observe(document.body, { childList: true, subtree: true });
}());
