// Allow-list sanitizer for the HTML that markdown-it and highlight.js produce. markdown-it already runs with raw HTML
// off, so this is the second line: the input is parsed into an inert <template> (nothing runs or loads there) and a
// fresh tree is rebuilt from it with only the tags and attributes below. Everything else is dropped: unknown tags are
// unwrapped to their text, dangerous containers (script, style, iframe, svg, ...) are removed with their content, and
// no attribute survives unless listed (so no on* handlers, no style, no src).

const ALLOWED_TAGS = new Set([
  'p', 'pre', 'code', 'em', 'strong', 's', 'del', 'ul', 'ol', 'li', 'blockquote',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'a', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'hr', 'br', 'span',
]);

/** Removed together with everything inside them. */
const DROPPED_WITH_CONTENT = new Set([
  'script', 'style', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'noscript', 'template', 'textarea',
  'select', 'option', 'title', 'head', 'meta', 'link', 'base', 'svg', 'math', 'audio', 'video', 'canvas', 'button',
  'input',
]);

/** highlight.js classes (hljs, hljs-keyword, "function_" sub-scopes) and the fence's language-xxx on <code>. */
const CLASS_TOKEN = /^(?:hljs|hljs-[a-z0-9-]+|[a-z]+_{1,3}|language-[a-z0-9+#._-]{1,40})$/i;
const SAFE_URL = /^https?:\/\//i;
const ALIGN = /text-align:\s*(left|right|center)/i;

function safeClasses(value: string | null): string {
  if (!value) return '';
  return value
    .split(/\s+/)
    .filter((token) => CLASS_TOKEN.test(token))
    .join(' ');
}

function copyAllowedAttributes(source: Element, target: HTMLElement, tag: string): void {
  if (tag === 'span' || tag === 'code') {
    const classes = safeClasses(source.getAttribute('class'));
    if (classes) target.className = classes;
  } else if (tag === 'ol') {
    const start = source.getAttribute('start');
    if (start && /^\d{1,9}$/.test(start)) target.setAttribute('start', start);
  } else if (tag === 'th' || tag === 'td') {
    // markdown-it writes column alignment as a style attribute, which the CSP would block anyway: use a class.
    const align = ALIGN.exec(source.getAttribute('style') ?? '');
    if (align) target.className = `align-${align[1].toLowerCase()}`;
  }
}

function sanitizeChildren(source: Node, target: Node, doc: Document): void {
  for (const child of Array.from(source.childNodes)) {
    if (child.nodeType === 3 /* text */) {
      target.appendChild(doc.createTextNode(child.textContent ?? ''));
      continue;
    }
    if (child.nodeType !== 1 /* element */) continue; // comments, processing instructions
    const element = child as Element;
    const tag = element.tagName.toLowerCase();
    if (DROPPED_WITH_CONTENT.has(tag)) continue;
    if (tag === 'img') {
      // Images could only load from the extension (img-src); show their alt text instead.
      const alt = element.getAttribute('alt');
      if (alt) target.appendChild(doc.createTextNode(alt));
      continue;
    }
    if (!ALLOWED_TAGS.has(tag)) {
      sanitizeChildren(element, target, doc);
      continue;
    }
    if (tag === 'a') {
      const href = element.getAttribute('href') ?? '';
      if (!SAFE_URL.test(href.trim())) {
        // Not an http(s) link: keep the text, drop the link.
        sanitizeChildren(element, target, doc);
        continue;
      }
      const link = doc.createElement('a');
      link.setAttribute('href', href.trim());
      link.setAttribute('title', href.trim());
      link.setAttribute('rel', 'noopener noreferrer');
      sanitizeChildren(element, link, doc);
      target.appendChild(link);
      continue;
    }
    const clean = doc.createElement(tag);
    copyAllowedAttributes(element, clean, tag);
    sanitizeChildren(element, clean, doc);
    target.appendChild(clean);
  }
}

/** Parses `html` inertly and returns a fragment that holds only allowed tags and attributes. */
export function sanitizeHtml(html: string, doc: Document = document): DocumentFragment {
  const template = doc.createElement('template');
  template.innerHTML = html;
  const fragment = doc.createDocumentFragment();
  sanitizeChildren(template.content, fragment, doc);
  return fragment;
}
