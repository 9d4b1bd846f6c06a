import { api } from '../api.js'
import { breadcrumb, bytes, errorBox, field, fill, h, onSubmit, pageHeading, status, table, time, timeText } from '../dom.js'

// One backup snapshot (#/backups/ID/home/ada/Documents): browse it directory by directory,
// download a file or a directory (tar), and let a device restore it (a restore grant, with the command to run there).

/** The console's address of a directory of a snapshot ('' is its root). */
export function snapshotHref (snapshotId, dir = '') {
  return '#/backups/' + [snapshotId, ...(dir === '' ? [] : dir.split('/'))].map(encodeURIComponent).join('/')
}

/** The command a device runs to restore the snapshot (or one path of it) under a directory of its choice. */
export function restoreCommand (snapshotId, path = '') {
  return `aerie restore ${snapshotId}${path === '' ? '' : ` ${shellQuoted(`/${path}`)}`} --to DIR`
}

function shellQuoted (text) {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`
}

const GRANT_LIFETIMES = [['60', '1 hour'], ['1440', '1 day'], ['10080', '7 days'], ['43200', '30 days']]

/** Permission bits as `ls -l` shows them (rwxr-xr-x), for a file, directory or link. */
function permissions (mode) {
  return [6, 3, 0].map(shift => ['r', 'w', 'x'].map((c, i) => (mode >> shift) & (4 >> i) ? c : '-').join('')).join('')
}

export async function render (main, ctx, [snapshotId, ...segments]) {
  const dir = segments.join('/')
  // This snapshot's record alone (an organisation has thousands), fetched again with each
  // directory opened like the rest of the page.
  const [{ snapshot }, { devices }, listing] = await Promise.all([
    api('GET', `/backup/snapshots/${encodeURIComponent(snapshotId)}`).catch(err => { if (err.status === 404) return {}; throw err }),
    api('GET', '/devices'),
    api('GET', `/backup/snapshots/${encodeURIComponent(snapshotId)}/tree?${new URLSearchParams({ path: dir })}`)
  ])
  const label = snapshot ? `${snapshot.deviceName}, ${timeText(snapshot.committedAt)}` : snapshotId
  document.title = `Snapshot of ${snapshot?.deviceName ?? snapshotId} · Aerie`
  const fileHref = path => `/api/v1/backup/snapshots/${encodeURIComponent(snapshotId)}/file?${new URLSearchParams({ path })}`
  const pathOf = name => dir === '' ? name : `${dir}/${name}`
  const archiveHref = `/api/v1/backup/snapshots/${encodeURIComponent(snapshotId)}/archive?${new URLSearchParams({ path: dir })}`

  // Directories first, then the rest, each by name.
  const entries = [...listing.entries].sort((a, b) => (a.type === 'dir') !== (b.type === 'dir') ? (a.type === 'dir' ? -1 : 1) : a.name.localeCompare(b.name))
  const nameCell = e => {
    if (e.type === 'dir') return [h('span', { class: 'file-icon', 'aria-hidden': 'true' }, '▸ '), h('a', { href: snapshotHref(snapshotId, pathOf(e.name)) }, e.name, '/', h('span', { class: 'visually-hidden' }, ' (directory)'))]
    if (e.type === 'symlink') return [e.name, h('span', { class: 'muted' }, ' (link to ', h('code', { class: 'wrap' }, e.target ?? '?'), ')')]
    return [e.name, e.changed ? h('span', { class: 'muted block' }, 'changed while it was backed up: as last read') : null]
  }
  const rows = entries.map(e => h('tr', { 'data-name': e.name },
    h('th', { scope: 'row', class: 'wrap' }, nameCell(e)),
    h('td', {}, e.type === 'file' ? bytes(e.size) : '—'),
    h('td', {}, time(new Date(e.mtimeMs).toISOString())),
    h('td', {}, h('code', {}, permissions(e.mode))),
    h('td', {}, e.type === 'file' ? h('a', { class: 'button secondary small', href: fileHref(pathOf(e.name)), download: e.name, 'aria-label': `Download ${e.name}` }, 'Download') : null)))

  fill(main,
    pageHeading(snapshot ? `Snapshot of ${snapshot.deviceName}` : `Snapshot ${snapshotId}`, h('a', { href: '#/backups' }, 'All backups')),
    snapshot
      ? h('dl', { class: 'facts panel', id: 'snapshot-facts' },
        h('dt', {}, 'Snapshot'), h('dd', {}, h('code', {}, snapshot.id)),
        h('dt', {}, 'Device'), h('dd', {}, snapshot.deviceName, ' ', h('code', { class: 'muted' }, snapshot.deviceId)),
        h('dt', {}, 'User'), h('dd', {}, snapshot.user),
        h('dt', {}, 'Taken'), h('dd', {}, time(snapshot.committedAt)),
        h('dt', {}, 'Backed up'), h('dd', {}, h('ul', { class: 'plain' }, snapshot.paths.map(p => h('li', {}, h('code', { class: 'wrap' }, p))))),
        h('dt', {}, 'Contents'), h('dd', {}, `${(snapshot.counters.files ?? 0).toLocaleString()} files, ${bytes(snapshot.counters.bytes ?? 0)}`,
          snapshot.held ? [' ', status('info', 'On legal hold')] : null))
      : null,
    breadcrumb(label, dir, d => snapshotHref(snapshotId, d)),
    h('section', { class: 'panel', 'aria-labelledby': 'listing-title' },
      h('h2', { id: 'listing-title' }, dir === '' ? 'Contents' : ['Contents of ', h('span', { class: 'wrap' }, `/${dir}`)]),
      h('div', { id: 'snapshot-listing' }, entries.length === 0
        ? h('p', {}, 'This directory is empty.')
        : table(dir === '' ? 'Contents of the snapshot' : `Contents of /${dir}`, ['Name', 'Size', 'Modified', 'Permissions', 'Action'], rows)),
      h('p', {}, h('a', { class: 'button secondary', id: 'download-archive', href: archiveHref, download: true },
        dir === '' ? 'Download the whole snapshot (.tar)' : 'Download this directory (.tar)'),
      ' ', h('span', { class: 'muted' }, 'with its subdirectories, modes, times and links; every chunk is verified as it is sent.'))),
    restoreSection(ctx, snapshotId, dir, devices.filter(d => !d.revokedAt && d.deviceId !== ctx.me().org.deviceId)))
}

/** "Restore to a device…": a restore grant for one device, and the command to run on it. */
function restoreSection (ctx, snapshotId, dir, devices) {
  const result = h('div', { id: 'grant-result', 'aria-live': 'polite' })
  const errors = errorBox()
  const form = h('form', { novalidate: true, id: 'grant-form', hidden: true },
    h('p', {}, 'The device you choose may open this snapshot and restore from it until the permission ends (you can revoke it before). Nothing is copied until someone runs the command on that device.'),
    h('div', { class: 'row' },
      field('Device', h('select', { name: 'device', id: 'grant-device', required: true },
        devices.map(d => h('option', { value: d.deviceId }, `${d.deviceName} (${d.user})`)))),
      field('For', h('select', { name: 'ttl', id: 'grant-ttl' },
        GRANT_LIFETIMES.map(([minutes, text]) => h('option', { value: minutes, selected: minutes === '1440' }, text))))),
    errors.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Allow this device to restore')))
  const open = h('button', {
    type: 'button',
    class: 'secondary',
    id: 'grant-open',
    'aria-expanded': 'false',
    'aria-controls': 'grant-form',
    onclick: () => {
      form.hidden = !form.hidden
      open.setAttribute('aria-expanded', String(!form.hidden))
      if (!form.hidden) form.querySelector('select').focus()
    }
  }, 'Restore to a device…')
  onSubmit(form, errors, async data => {
    const device = devices.find(d => d.deviceId === data.get('device'))
    if (device === undefined) throw new Error('Choose the device to restore on.')
    const { grant } = await api('POST', `/backup/snapshots/${encodeURIComponent(snapshotId)}/restore-grants`, { device: device.deviceId, ttlMinutes: Number(data.get('ttl')) })
    fill(result, h('section', { class: 'highlight', 'aria-labelledby': 'grant-title' },
      h('h3', { id: 'grant-title', tabindex: '-1' }, `${device.deviceName} may restore this snapshot`),
      h('p', {}, 'Until ', time(grant.expiresAt), '. On ', device.deviceName, ', run (DIR is where the files go; existing files are never replaced unless you add --overwrite):'),
      h('pre', { class: 'command', id: 'grant-command' }, h('code', {}, restoreCommand(grant.snapshotId))),
      dir === ''
        ? null
        : [h('p', {}, 'Or only ', h('code', { class: 'wrap' }, `/${dir}`), ':'), h('pre', { class: 'command', id: 'grant-command-dir' }, h('code', {}, restoreCommand(grant.snapshotId, dir)))],
      h('p', {}, h('a', { href: '#/backups' }, 'Restore grants'), ' lists it; revoke it there.')))
    form.hidden = true
    open.setAttribute('aria-expanded', 'false')
    result.querySelector('h3').focus()
    ctx.toast(`${device.deviceName} may restore this snapshot`)
  })
  return h('section', { class: 'panel', 'aria-labelledby': 'restore-title' },
    h('h2', { id: 'restore-title' }, 'Restore'),
    devices.length === 0
      ? h('p', {}, 'No device can restore it: enroll one first.')
      : [h('div', { class: 'actions' }, open), form],
    result)
}
