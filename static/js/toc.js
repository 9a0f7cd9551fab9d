/*
 * Notebook wiki: a page's table of contents (templates/pages/view.html). Without this file
 * the contents are a <details> the reader opens; on wide screens the stylesheet shows them
 * beside the text anyway (and, once this file runs, leaves their summary to fold them).
 *
 *   - where there is room beside the text, the contents open (narrow screens keep them
 *     folded behind their one line, so the text starts on the first screen);
 *   - the link to the section being read is marked aria-current="location" (and styled so):
 *     the last heading above the reading line, a third of the way down the window.
 */
(function () {
  'use strict';

  const WIDE_SCREEN = '(min-width: 75rem)'; // as the stylesheet's side column
  const READING_LINE = 1 / 3; // of the window's height, from its top
  const ABOVE_EVERYTHING = '1000000px'; // a top margin taller than any page

  const contents = document.querySelector('[data-toc]');
  if (!contents) {
    return;
  }
  const links = Array.from(contents.querySelectorAll('a[href^="#"]'));
  const headings = links.map(function (link) {
    return document.getElementById(decodeURIComponent(link.hash.slice(1)));
  });

  contents.classList.add('toc--scripted'); // its summary folds it, even beside the text
  const wide = window.matchMedia(WIDE_SCREEN);
  function openWhenWide() {
    if (wide.matches) {
      contents.open = true;
    }
  }
  openWhenWide();
  wide.addEventListener('change', openWhenWide);

  function markCurrent() {
    const line = window.innerHeight * READING_LINE;
    let current = -1;
    headings.forEach(function (heading, index) {
      if (heading && heading.getBoundingClientRect().top <= line) {
        current = index;
      }
    });
    links.forEach(function (link, index) {
      if (index === current) {
        link.setAttribute('aria-current', 'location');
      } else {
        link.removeAttribute('aria-current');
      }
    });
  }

  if (!('IntersectionObserver' in window)) {
    return;
  }
  // The watched box is everything above the reading line, so any heading crossing that line,
  // however far a jump takes it, is a change of section.
  const observer = new IntersectionObserver(markCurrent, {
    rootMargin: ABOVE_EVERYTHING + ' 0px -' + Math.round((1 - READING_LINE) * 100) + '% 0px',
  });
  headings.forEach(function (heading) {
    if (heading) {
      observer.observe(heading);
    }
  });
}());
