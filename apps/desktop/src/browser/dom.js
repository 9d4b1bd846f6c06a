// Small DOM helpers. Everything is built with createElement and text nodes (never innerHTML),
// so nothing from the agent (file names above all) can become markup.

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

/** Replaces an element's children; flattens arrays and skips null, undefined and false. */
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

const ICONS = { ok: '✓', sync: '↻', wait: '○', warn: '!', bad: '✕', info: 'i', conflict: '⇄' }

/** A state shown by an icon and words, never by colour alone. */
export function badge (kind, text) {
  return h('span', { class: `badge badge-${kind}` }, h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, ICONS[kind] ?? '•'), ' ', text)
}

/** Sizes in binary units, as the CLI shows them. */
export function bytes (n) {
  if (n === null || n === undefined) return '—'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = n
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++ }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}

export function duration (seconds) {
  if (seconds === undefined || seconds === null) return 'unknown'
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`
}

export function time (iso) {
  if (!iso) return '—'
  return h('time', { datetime: iso, title: iso }, new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }))
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

/** Runs an action with the button disabled; an error goes to `errors` (or is thrown on). */
export async function busy (button, errors, action) {
  errors?.clear()
  button.disabled = true
  try {
    return await action()
  } catch (err) {
    if (errors) errors.show(err.message)
    else throw err
  } finally {
    button.disabled = false
  }
}

export function table (caption, headers, rows) {
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, headers.map(text => h('th', { scope: 'col' }, text)))),
      h('tbody', {}, rows)))
}

/** Asks before something that matters, in an accessible modal dialog. */
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
