import { api } from '../api.js'
import { breadcrumb, bytes, confirmAction, errorBox, field, fill, h, onSubmit, pageHeading, status, table, time, timeText } from '../dom.js'
import { shareHref } from './shares.js'

// One folder of the central copy (#/folders/ID/dir/sub): a file browser with deleted files, each
// file's versions with restore, and the folder's retention policy (administrators change it).

/** The console's address of a directory of a folder ('' is its root). */
export function folderHref (folderId, dir = '') {
  return '#/folders/' + [folderId, ...(dir === '' ? [] : dir.split('/'))].map(encodeURIComponent).join('/')
}

const iso = ms => new Date(ms).toISOString()

function keptFor (policy) {
  const versions = `up to ${policy.keepVersions.toLocaleString()} ${policy.keepVersions === 1 ? 'version' : 'versions'} of each file`
  return policy.maxAgeDays === 0 ? `${versions}, for ever` : `${versions}, each for ${policy.maxAgeDays.toLocaleString()} ${policy.maxAgeDays === 1 ? 'day' : 'days'} after it was replaced`
}

/** A deleted entry: struck through, and labelled in words and by an icon. */
function deletedName (name) {
  return [h('del', {}, name), ' ', status('deleted', 'Deleted')]
}

export async function render (main, ctx, [folderId, ...segments]) {
  const me = ctx.me()
  const isAdmin = me.user.role === 'admin'
  const dir = segments.join('/')
  const filesPath = `/folders/${encodeURIComponent(folderId)}`
  const [{ folders }, { devices }, listing, retention] = await Promise.all([
    api('GET', '/folders'),
    api('GET', '/devices'),
    api('GET', `${filesPath}/files?${new URLSearchParams({ dir })}`),
    api('GET', `${filesPath}/retention`)
  ])
  const folder = folders.find(f => f.id === folderId) ?? { id: folderId, label: folderId, files: 0, bytes: 0 }
  document.title = `${folder.label} · Aerie`
  const names = new Map(devices.map(d => [d.deviceId, d.deviceName]))
  names.set(me.org.deviceId, 'this server')
  const who = id => names.get(id) ?? id

  const listingBody = h('div', { id: 'file-listing' })
  const versionsPanel = h('section', { class: 'panel', id: 'versions', 'aria-labelledby': 'versions-title', hidden: true })
  let openPath

  const showListing = entries => {
    // Directories first, then files, each by name.
    const sorted = [...entries].sort((a, b) => (a.type === 'dir') !== (b.type === 'dir') ? (a.type === 'dir' ? -1 : 1) : a.name.localeCompare(b.name))
    fill(listingBody, sorted.length === 0
      ? h('p', {}, dir === '' ? 'This folder is empty.' : 'This directory is empty.')
      : table(dir === '' ? `Files in ${folder.label}` : `Files in ${dir}`, ['Name', 'Size', 'Modified', 'By', 'Action'], sorted.map(entry => h('tr', { 'data-path': entry.path, class: entry.deleted ? 'deleted' : null },
        h('th', { scope: 'row', class: 'wrap' }, entryName(entry)),
        h('td', {}, entry.type === 'file' && !entry.deleted ? bytes(entry.size) : '—'),
        h('td', {}, time(iso(entry.mtimeMs))),
        h('td', {}, who(entry.modifiedBy)),
        h('td', { class: 'buttons' }, entry.type === 'file'
          ? h('button', {
            type: 'button',
            class: 'secondary small',
            'aria-label': `Versions of ${entry.name}`,
            'aria-controls': 'versions',
            onclick: () => showVersions(entry.path).catch(err => ctx.toast(`Could not list the versions: ${err.message}`))
          }, 'Versions')
          : null,
        entry.deleted || entry.type === 'symlink' ? null : h('a', { class: 'button secondary small', href: shareHref(folderId, entry.path), 'aria-label': `Share ${entry.name}` }, 'Share'))))))
  }

  const entryName = entry => {
    const name = entry.type === 'dir'
      ? h('a', { href: folderHref(folderId, entry.path) }, entry.name, '/', h('span', { class: 'visually-hidden' }, ' (directory)'))
      : entry.type === 'symlink' ? [entry.name, h('span', { class: 'muted' }, ' (link)')] : entry.name
    return [
      entry.type === 'dir' ? h('span', { class: 'file-icon', 'aria-hidden': 'true' }, '▸ ') : null,
      entry.deleted ? deletedName(name) : name
    ]
  }

  const reloadListing = async () => {
    showListing((await api('GET', `${filesPath}/files?${new URLSearchParams({ dir })}`)).entries)
  }

  const showVersions = async (path, message) => {
    openPath = path
    const { versions } = await api('GET', `${filesPath}/versions?${new URLSearchParams({ path })}`)
    if (openPath !== path) return
    const name = path.slice(path.lastIndexOf('/') + 1)
    const note = h('p', { id: 'restore-result', role: 'status', tabindex: '-1' }, message ? status('ok', message) : null)
    const rows = versions.map(v => h('tr', {},
      h('td', {}, time(iso(v.mtimeMs), 'second'), v.deleted ? [' ', status('deleted', 'Deleted')] : null),
      h('td', {}, v.deleted ? '—' : bytes(v.size)),
      h('td', {}, who(v.modifiedBy)),
      h('td', {}, v.replacedAt ? time(v.replacedAt, 'second') : status('ok', 'Current')),
      listing.canRestore ? h('td', {}, v.replacedAt && !v.deleted ? restoreButton(path, name, v, note) : null) : null))
    fill(versionsPanel,
      h('h2', { id: 'versions-title', tabindex: '-1' }, 'Versions of ', h('span', { class: 'wrap' }, path)),
      h('p', { class: 'muted' }, `The team server keeps ${keptFor(retention)}.`,
        listing.canRestore ? ' Restoring makes that version the newest; the one it replaces is kept too.' : ''),
      note,
      versions.length === 0
        ? h('p', {}, 'The team server keeps no versions of this file.')
        : table(`Versions of ${name}, newest first`, ['Modified', 'Size', 'By', 'Replaced at', listing.canRestore ? 'Action' : null].filter(Boolean), rows),
      versions.length > 0 && !versions.some(v => v.replacedAt && !v.deleted) ? h('p', {}, 'No earlier version is kept.') : null,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: closeVersions }, 'Close versions')))
    versionsPanel.hidden = false
    for (const button of listingBody.querySelectorAll('button[aria-controls="versions"]')) {
      button.setAttribute('aria-expanded', String(button.closest('tr')?.dataset.path === path))
    }
    if (message) note.focus()
    else versionsPanel.querySelector('h2').focus()
  }

  const closeVersions = () => {
    const path = openPath
    openPath = undefined
    versionsPanel.hidden = true
    fill(versionsPanel)
    const button = [...listingBody.querySelectorAll('tr')].find(tr => tr.dataset.path === path)?.querySelector('button')
    button?.setAttribute('aria-expanded', 'false')
    button?.focus()
  }

  // A version is named by a moment it was current: just before it was replaced.
  const restoreButton = (path, name, version, note) => h('button', {
    type: 'button',
    class: 'small',
    'aria-label': `Restore this version (modified ${timeText(iso(version.mtimeMs), 'second')})`,
    onclick: async () => {
      const sure = await confirmAction(`Restore ${name}?`,
        `The version of ${path} modified ${timeText(iso(version.mtimeMs), 'second')} becomes the newest, on the team server and on every member device. The current version is kept in the history.`,
        'Restore version')
      if (!sure) return
      try {
        const at = new Date(Date.parse(version.replacedAt) - 1).toISOString()
        await api('POST', `${filesPath}/restore`, { path, at })
        const done = `Restored ${name} to the version modified ${timeText(iso(version.mtimeMs), 'second')}. It syncs to every member.`
        await reloadListing()
        await showVersions(path, done)
      } catch (err) {
        fill(note, status('bad', `Could not restore: ${err.message}`))
        note.focus()
      }
    }
  }, 'Restore this version')

  fill(main,
    pageHeading(folder.label, h('a', { class: 'button secondary small', href: shareHref(folderId, dir), id: 'share-here' }, dir === '' ? 'Share this folder' : 'Share this directory'), h('a', { href: '#/folders' }, 'All folders')),
    h('p', { class: 'muted' }, `Folder id ${folder.id} · ${folder.files.toLocaleString()} files · ${bytes(folder.bytes)}`),
    breadcrumb(folder.label, dir, d => folderHref(folderId, d)),
    h('section', { class: 'panel', 'aria-labelledby': 'listing-title' },
      h('h2', { id: 'listing-title' }, dir === '' ? 'Files' : ['Files in ', h('span', { class: 'wrap' }, dir)]),
      listingBody),
    versionsPanel,
    retentionSection(filesPath, retention, isAdmin))
  showListing(listing.entries)
}

function retentionSection (filesPath, policy, isAdmin) {
  const summary = h('p', { id: 'retention-summary' }, `The team server keeps ${keptFor(policy)}.`)
  const section = h('section', { class: 'panel', 'aria-labelledby': 'retention-title' }, h('h2', { id: 'retention-title' }, 'Version history'), summary)
  if (!isAdmin) return section
  const errors = errorBox()
  const saved = h('p', { role: 'status', id: 'retention-saved' })
  const form = h('form', { novalidate: true, id: 'retention-form', class: 'subform' },
    h('h3', {}, 'Retention policy'),
    h('div', { class: 'row' },
      field('Keep versions', h('input', { name: 'keepVersions', id: 'retention-keep', type: 'number', min: 1, max: 10000, step: 1, inputmode: 'numeric', required: true, value: policy.keepVersions }),
        'The newest versions kept of each file, 1 to 10000.'),
      field('For days', h('input', { name: 'maxAgeDays', id: 'retention-days', type: 'number', min: 0, max: 36500, step: 1, inputmode: 'numeric', required: true, value: policy.maxAgeDays }),
        'Versions replaced longer ago are removed; 0 keeps them forever.')),
    errors.el,
    saved,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save retention policy')))
  onSubmit(form, errors, async data => {
    saved.replaceChildren()
    const whole = (key, what) => {
      const text = String(data.get(key) ?? '').trim()
      if (!/^\d+$/.test(text)) throw new Error(`Enter ${what} as a whole number.`)
      return Number(text)
    }
    const body = { keepVersions: whole('keepVersions', 'how many versions to keep'), maxAgeDays: whole('maxAgeDays', 'the days (0 keeps them forever)') }
    const next = await api('PUT', `${filesPath}/retention`, body)
    summary.textContent = `The team server keeps ${keptFor(next)}.`
    saved.replaceChildren(status('ok', 'Retention policy saved. Versions beyond it are removed now.'))
  })
  section.append(form)
  return section
}
