// Small DOM helpers. Everything is built with createElement and text nodes (never innerHTML),
// so nothing from the server can become markup.

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

/** A status shown by an icon and words, never by colour alone. */
export function status (kind, text) {
  const icons = { ok: '✓', off: '○', bad: '✕', warn: '!', info: 'i', deleted: '✕' }
  return h('span', { class: `status status-${kind}` }, h('span', { class: 'status-icon', 'aria-hidden': 'true' }, icons[kind] ?? '•'), ' ', text)
}

export function bytes (n) {
  if (n === null || n === undefined) return '—'
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB']
  let value = n
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit++ }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`
}

/** A moment, to the minute (or to the second, where versions a moment apart must be told apart). */
export function time (iso, precision = 'minute') {
  if (!iso) return '—'
  return h('time', { datetime: iso, title: iso }, timeText(iso, precision))
}

export function timeText (iso, precision = 'minute') {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: precision === 'second' ? 'medium' : 'short' })
}

/** A labelled form field: the label is always visible and tied to its input. */
export function field (label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`
  input.id = id
  const hintEl = hint === undefined ? null : h('p', { class: 'hint', id: `${id}-hint` }, hint)
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id)
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hintEl)
}

/** A place for a form's error, read out when it appears. */
export function errorBox () {
  const box = h('p', { class: 'form-error', role: 'alert', hidden: true })
  return {
    el: box,
    show (message) {
      box.replaceChildren(h('span', { 'aria-hidden': 'true' }, '✕ '), message)
      box.hidden = false
    },
    clear () { box.hidden = true; box.replaceChildren() }
  }
}

/** Runs a form's action with its button disabled, showing any error in the form. */
export function onSubmit (form, errors, action) {
  form.addEventListener('submit', async event => {
    event.preventDefault()
    errors.clear()
    const buttons = form.querySelectorAll('button')
    buttons.forEach(b => { b.disabled = true })
    try {
      await action(new FormData(form))
    } catch (err) {
      errors.show(err.message)
    } finally {
      buttons.forEach(b => { b.disabled = false })
    }
  })
}

export function table (caption, headers, rows) {
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, headers.map(text => h('th', { scope: 'col' }, text)))),
      h('tbody', {}, rows)))
}

/** A breadcrumb from `label` (the root, '') down to `dir` ('a/b'); `hrefOf(dir)` is each step's address. */
export function breadcrumb (label, dir, hrefOf) {
  const segments = dir === '' ? [] : dir.split('/')
  const crumbs = [{ text: label, dir: '' }, ...segments.map((s, i) => ({ text: s, dir: segments.slice(0, i + 1).join('/') }))]
  return h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
    h('ol', {}, crumbs.map((c, i) => h('li', {},
      h('a', { href: hrefOf(c.dir), 'aria-current': i === crumbs.length - 1 ? 'location' : undefined }, c.text)))))
}

export function pageHeading (text, ...extra) {
  return h('div', { class: 'page-head' }, h('h1', { id: 'page-title' }, text), extra)
}

export function svgImage (svg, alt) {
  return h('img', { class: 'qr', src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`, alt })
}

/** Asks before something that cannot be undone, in an accessible modal dialog. */
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
