// The console's DOM helpers: the shared ones (packages/ui-kit, served as /kit/dom.js), and what
// only the console needs.
import { h } from '/kit/dom.js'
export { confirmAction, errorBox, field, fill, h, table } from '/kit/dom.js'

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

