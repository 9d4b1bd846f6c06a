import { api } from '../api.js'
import { errorBox, field, fill, h, onSubmit, pageHeading, status, table, time } from '../dom.js'

const ACTIONS = [
  'setup.completed', 'setup.refused', 'login.succeeded', 'login.failed', 'login.locked', 'logout', 'password.changed',
  'totp.enabled', 'totp.disabled', 'totp.reset', 'recovery_code.used', 'recovery_codes.replaced', 'reauthentication.failed',
  'user.created', 'user.disabled', 'user.enabled', 'enrollment_code.created', 'device.revoked',
  'api_token.created', 'api_token.revoked', 'audit.verified',
  'folder.member_set', 'folder.member_removed', 'version.restored', 'folder.retention_changed',
  'backup.retention_set', 'backup.retention_cleared', 'backup.hold_set', 'backup.hold_lifted', 'backup.restore_granted',
  'backup.restore_grant_revoked', 'backup.download', 'backup.scrub_requested', 'backup.gc_requested',
  // Recorded by the server process itself.
  'device.enrolled', 'device.enrollment_refused', 'server.unlocked',
  'backup.snapshot_added', 'backup.restore', 'backup.snapshot_forgotten', 'backup.scrub', 'backup.scrub_damage',
  'backup.gc', 'backup.gc_failed', 'backup.store_index_rebuilt'
]

function localToIso (value) {
  return value ? new Date(value).toISOString() : undefined
}

export async function render (main) {
  let filters = {}
  let entries = []
  const body = h('div', { id: 'audit-entries' })
  const verifyResult = h('div', { id: 'verify-result', role: 'status' })

  const load = async (older) => {
    const query = new URLSearchParams({ limit: '50', ...filters })
    if (older && entries.length > 0) query.set('before', String(entries.at(-1).seq))
    const page = await api('GET', `/audit?${query}`)
    entries = older ? entries.concat(page.entries) : page.entries
    fill(body,
      entries.length === 0
        ? h('p', {}, 'No entries match.')
        : table('Audit log entries', ['#', 'Time', 'Who', 'Action', 'Target', 'Details', 'From'], entries.map(e => h('tr', {},
          h('td', {}, String(e.seq)),
          h('td', {}, time(e.time)),
          h('td', {}, e.actor),
          h('td', {}, h('code', {}, e.action)),
          h('td', { class: 'wrap' }, e.target || '—'),
          h('td', { class: 'wrap' }, Object.entries(e.detail).map(([k, v]) => `${k}: ${v}`).join(', ') || '—'),
          h('td', {}, e.address || '—')))),
      page.more ? h('button', { type: 'button', class: 'secondary', onclick: () => load(true) }, 'Load older entries') : null)
  }

  const errors = errorBox()
  const form = h('form', { class: 'panel', novalidate: true, id: 'audit-filters' },
    h('h2', {}, 'Filter'),
    h('div', { class: 'row' },
      field('Action', h('input', { name: 'action', id: 'filter-action', list: 'audit-actions', autocomplete: 'off' }), 'Any when empty; suggestions as you type.'),
      field('Who (email)', h('input', { name: 'actor', id: 'filter-actor', type: 'text' })),
      field('From', h('input', { name: 'since', id: 'filter-since', type: 'datetime-local' })),
      field('Until', h('input', { name: 'until', id: 'filter-until', type: 'datetime-local' }))),
    h('datalist', { id: 'audit-actions' }, ACTIONS.map(a => h('option', { value: a }))),
    errors.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply filters'), h('button', { type: 'reset', class: 'secondary' }, 'Clear')))
  onSubmit(form, errors, async data => {
    filters = {}
    for (const [key, value] of [['action', String(data.get('action')).trim()], ['actor', String(data.get('actor')).trim()], ['since', localToIso(data.get('since'))], ['until', localToIso(data.get('until'))]]) {
      if (value) filters[key] = value
    }
    await load(false)
  })
  form.addEventListener('reset', () => { filters = {}; setTimeout(() => { void load(false) }, 0) })

  const verify = h('button', {
    type: 'button',
    id: 'verify-chain',
    onclick: async () => {
      verify.disabled = true
      try {
        const result = await api('POST', '/audit/verify')
        verifyResult.replaceChildren(result.ok
          ? status('ok', `Chain intact: all ${result.entries} entries verified.`)
          : status('bad', `Chain broken at entry ${result.firstBroken.seq}: ${result.firstBroken.reason}. ${result.entries} entries before it verified.`))
        await load(false)
      } catch (err) {
        verifyResult.replaceChildren(status('bad', err.message))
      } finally {
        verify.disabled = false
      }
    }
  }, 'Verify chain')

  fill(main,
    pageHeading('Audit log'),
    h('section', { class: 'panel' },
      h('p', {}, 'Every security-relevant action, each entry chained to the one before by its hash: an edited, removed or reordered entry breaks the chain.'),
      h('div', { class: 'actions' }, verify), verifyResult),
    form,
    h('section', { class: 'panel' }, h('h2', {}, 'Entries, newest first'), body))
  await load(false)
}
