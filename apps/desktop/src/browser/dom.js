// The desktop UI's DOM helpers: the shared ones (packages/ui-kit, served as /kit/dom.js), and
// what only this UI needs.
import { h } from '/kit/dom.js'
export { confirmAction, errorBox, field, fill, h, table } from '/kit/dom.js'

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

