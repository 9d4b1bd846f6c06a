// DOM helpers shared by the desktop UI and the team server's console (each server sends this
// file as /kit/dom.js; each UI's own dom.js adds what only it needs). Everything is built with
// createElement and text nodes (never innerHTML), so nothing a server sends — file names above
// all — can become markup.

export function h (tag, props = {}, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value)
    else if (key === 'class') el.className = value
    else if (value === true) el.setAttribute(key, '')
    else el.setAttribute(key, String(value))
  }
  append(el, children)
  return el
}

/** Replaces an element's children; like h(), it flattens arrays and skips null, undefined and false. */
export function fill (el, ...children) {
  el.replaceChildren()
  append(el, children)
}

function append (el, children) {
  for (const child of children) {
    if (Array.isArray(child)) append(el, child)
    else if (child !== undefined && child !== null && child !== false) el.append(child instanceof Node ? child : String(child))
  }
}

let fieldCount = 0

/** A labelled form field: the label is always visible and tied to its input. */
export function field (label, input, hint) {
  input.id ||= `field-${++fieldCount}`
  const hintEl = hint === undefined ? null : h('p', { class: 'hint', id: `${input.id}-hint` }, hint)
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id)
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input, hintEl)
}

/** A place for a form's error, read out when it appears. */
export function errorBox () {
  const box = h('p', { class: 'form-error', role: 'alert', hidden: true })
  return {
    el: box,
    show (message) { box.replaceChildren(h('span', { 'aria-hidden': 'true' }, '✕ '), message); box.hidden = false },
    clear () { box.hidden = true; box.replaceChildren() }
  }
}

export function table (caption, headers, rows) {
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, headers.map(text => h('th', { scope: 'col' }, text)))),
      h('tbody', {}, rows)))
}

/** Asks before something that matters, in the page's accessible modal dialog (#confirm). */
export function confirmAction (title, text, actionLabel) {
  const dialog = document.getElementById('confirm')
  document.getElementById('confirm-title').textContent = title
  document.getElementById('confirm-text').textContent = text
  document.getElementById('confirm-ok').textContent = actionLabel
  dialog.returnValue = ''
  dialog.showModal()
  document.getElementById('confirm-cancel').focus()
  return new Promise(resolve => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true })
  })
}
