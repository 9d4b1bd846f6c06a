import { api, query } from '../api.js'
import { badge, busy, bytes, confirmAction, errorBox, field, fill, h, table, time } from '../dom.js'
import { deviceName, entryBadge, folderBadge, folderFacts } from '../state.js'

// Folder: its state, conflicts to resolve, its files with their sync state (one directory at
// a time: #/folder/ID/sub/dir), the versions the sync kept, and its members.

export function render (main, ctx, detail) {
  const [id, ...dirParts] = detail
  const dir = dirParts.join('/')
  const heading = h('h1', { id: 'page-title' }, id)
  const path = h('p', { class: 'path' })
  const live = h('div', { class: 'live' })
  const actions = h('div', { class: 'actions' })
  const conflicts = h('section', { 'aria-labelledby': 'conflicts-title', hidden: true })
  const files = h('div')
  const versions = h('div')
  const members = h('div')
  main.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← Dashboard')),
    heading, path, live, actions, conflicts,
    h('section', { 'aria-labelledby': 'files-title' }, h('h2', { id: 'files-title' }, 'Files'), files),
    h('section', { 'aria-labelledby': 'versions-title' }, h('h2', { id: 'versions-title' }, 'Version history'), versions),
    h('section', { 'aria-labelledby': 'members-title' }, h('h2', { id: 'members-title' }, 'Members'), members))

  let folder
  let seen = ''
  let membersKey = ''
  let versionsOf = ''

  async function loadFiles () {
    const { entries } = await api('GET', `/folders/files?${query({ folder: id, dir })}`)
    const crumbs = [h('a', { href: `#/folder/${encodeURIComponent(id)}` }, folder.label)]
    dirParts.forEach((part, i) => crumbs.push(' / ', h('a', { href: `#/folder/${[id, ...dirParts.slice(0, i + 1)].map(encodeURIComponent).join('/')}` }, part)))
    const rows = entries.map(entry => h('tr', {},
      h('td', {}, entry.type === 'dir'
        ? h('a', { href: `#/folder/${[id, ...entry.path.split('/')].map(encodeURIComponent).join('/')}` }, h('span', { 'aria-hidden': 'true' }, '📁 '), entry.name)
        : entry.name),
      h('td', {}, entryBadge(entry)),
      h('td', {}, entry.type === 'dir' ? '—' : bytes(entry.size)),
      h('td', {}, time(new Date(entry.mtimeMs).toISOString())),
      h('td', {}, entry.type === 'file' && entry.state !== 'incoming'
        ? h('button', { type: 'button', class: 'secondary small', 'aria-label': `Versions of ${entry.name}`, onclick: () => showVersions(entry.path) }, 'Versions')
        : '', ' ', entry.state === 'incoming' ? '' : shareLink(entry.path, entry.name))))
    fill(files, h('nav', { 'aria-label': 'Directory', class: 'crumbs' }, crumbs),
      entries.length === 0 ? h('p', {}, 'Nothing here yet.') : table(`Files in ${dir || folder.label}`, ['Name', 'State', 'Size', 'Modified', ''], rows))
  }

  /** To the share screen, with this item in its form. */
  function shareLink (itemPath, name) {
    return h('a', { class: 'button-link', href: `#/share/${[id, ...itemPath.split('/')].map(encodeURIComponent).join('/')}`, 'aria-label': `Share ${name}` }, 'Share')
  }

  async function loadConflicts () {
    const list = (await api('GET', `/folders/conflicts?${query({ folder: id })}`)).conflicts
    const openHref = path => `/api/v1/folders/open?${query({ folder: id, path })}`
    conflicts.hidden = list.length === 0
    fill(conflicts, h('h2', { id: 'conflicts-title' }, 'Conflicts'),
      h('p', {}, 'Two devices changed these files at the same time. Both versions are here; choose what to keep. What you do not keep stays in the version history.'),
      list.map(c => {
        const errors = errorBox()
        const resolve = keep => async event => {
          await busy(event.currentTarget, errors, async () => {
            const { kept } = await api('POST', '/folders/conflicts/resolve', { folder: id, path: c.path, keep })
            ctx.toast(keep === 'both' ? `Kept both: the other version is now ${kept}` : `Resolved: ${kept} is the version kept`)
            await refresh(true)
          })
        }
        const status = ctx.status()
        const writer = status.deviceId.startsWith(c.device) ? 'this device' : status.peers.find(p => p.deviceId.startsWith(c.device))?.deviceName ?? `device ${c.device}…`
        return h('article', { class: 'card conflict', 'aria-label': `Conflict on ${c.original}` },
          h('h3', {}, badge('conflict', c.original)),
          h('dl', { class: 'facts-list' },
            h('dt', {}, 'Current file'), h('dd', {}, c.current ? [`${c.original}, modified `, time(new Date(c.current.mtimeMs).toISOString()), ` (${bytes(c.current.size)})`] : `${c.original} has been deleted since`),
            h('dt', {}, 'Other version'), h('dd', {}, `${c.path}, written on ${writer}, modified `, time(c.modified), ` (${bytes(c.size)})`)),
          h('p', { class: 'actions' },
            c.current ? h('a', { href: openHref(c.original), target: '_blank', rel: 'noopener', 'aria-label': `Open the current ${c.original}` }, 'Open the current file') : '',
            h('a', { href: openHref(c.path), target: '_blank', rel: 'noopener', 'aria-label': `Open the other version of ${c.original}` }, 'Open the other version')),
          errors.el,
          h('div', { class: 'actions' },
            h('button', { type: 'button', onclick: resolve('original'), 'aria-label': `Keep the current ${c.original}` }, 'Keep the current file'),
            h('button', { type: 'button', onclick: resolve('copy'), 'aria-label': `Keep the other version of ${c.original}` }, 'Keep the other version'),
            h('button', { type: 'button', class: 'secondary', onclick: resolve('both'), 'aria-label': `Keep both versions of ${c.original}` }, 'Keep both')))
      }))
  }

  async function showVersions (filePath) {
    versionsOf = filePath
    const answer = await api('GET', `/folders/versions?${query({ folder: id, path: filePath })}`)
    const errors = errorBox()
    const restoreButton = (label, at, what) => h('button', {
      type: 'button',
      class: 'small',
      'aria-label': `Restore ${what} as modified ${new Date(at).toLocaleString()}`,
      onclick: async event => {
        const button = event.currentTarget
        if (!await confirmAction('Restore this version?', `${what} becomes the version modified ${new Date(at).toLocaleString()}. What is there now stays in the history.`, 'Restore')) return
        await busy(button, errors, async () => {
          await api('POST', '/folders/versions/restore', { folder: id, path: what, at })
          ctx.toast(`Restored ${what}`)
          await refresh(true)
        })
      }
    }, label)
    const rows = answer.versions.map(v => h('tr', {},
      h('td', {}, v.path), h('td', {}, time(v.mtime)), h('td', {}, time(v.archivedAt)), h('td', {}, bytes(v.size)),
      h('td', {}, restoreButton('Restore', v.mtime, v.path))))
    const serverRows = answer.server.filter(v => v.replacedAt !== undefined).map(v => h('tr', {},
      h('td', {}, v.path), h('td', {}, time(new Date(v.mtimeMs).toISOString())), h('td', {}, time(v.replacedAt)), h('td', {}, v.deleted ? 'deleted' : bytes(v.size)),
      h('td', {}, restoreButton('Restore', new Date(v.mtimeMs).toISOString(), v.path))))
    fill(versions,
      h('p', {}, filePath === '' ? 'Every version this device kept of the folder\'s files, deleted files included.' : `Versions of ${filePath}. `,
        filePath === '' ? '' : h('button', { type: 'button', class: 'link', onclick: () => showVersions('') }, 'Show all versions in the folder')),
      errors.el,
      rows.length === 0 ? h('p', {}, 'No versions kept: the sync keeps a file\'s old content when a change from another device replaces or deletes it.') : table('Versions kept on this device', ['File', 'Modified', 'Replaced', 'Size', ''], rows),
      serverRows.length === 0 ? '' : [h('h3', {}, 'On the team server'), table('Versions the team server keeps', ['File', 'Modified', 'Replaced', 'Size', ''], serverRows)],
      answer.serverNote ? h('p', { class: 'muted' }, answer.serverNote) : '')
    if (filePath !== '') versions.querySelector('button')?.focus()
  }

  function renderMembers (status) {
    const owner = folder.owner === status.deviceId
    const rows = folder.members.map(m => h('tr', {},
      h('td', {}, deviceName(status, m.deviceId)),
      h('td', {}, m.deviceId === folder.owner ? 'owner' : m.role),
      h('td', {}, owner && m.deviceId !== folder.owner
        ? h('button', { type: 'button', class: 'secondary small', 'aria-label': `Stop sharing with ${deviceName(status, m.deviceId)}`, onclick: event => share(event.currentTarget, m.deviceId, 'remove') }, 'Stop sharing')
        : '')))
    const errors = errorBox()
    async function share (button, deviceId, role) {
      await busy(button, errors, async () => {
        await api('POST', '/folders/share', { id, deviceId, role })
        ctx.toast(role === 'remove' ? 'No longer shared with that device' : 'Shared: the device can accept the folder now')
      })
    }
    let form = ''
    if (owner) {
      const device = h('input', { name: 'device', required: true, autocomplete: 'off', list: 'known-devices' })
      const role = h('select', { name: 'role' }, h('option', { value: 'editor' }, 'Editor (can change files)'), h('option', { value: 'viewer' }, 'Viewer (receives only)'))
      const button = h('button', { type: 'submit' }, 'Share')
      form = h('form', { class: 'card', 'aria-label': 'Share this folder' },
        h('datalist', { id: 'known-devices' }, status.peers.filter(p => !folder.members.some(m => m.deviceId === p.deviceId)).map(p => h('option', { value: p.deviceId }, p.deviceName))),
        field('Share with device', device, 'Its device id (16 characters) or its name, if this device has met it.'),
        field('Role', role), h('div', { class: 'actions' }, button))
      form.addEventListener('submit', async event => { event.preventDefault(); await share(button, device.value.trim(), role.value) })
    }
    fill(members, folder.members.length === 0 ? h('p', {}, 'No membership yet.') : table('Members of this folder', ['Device', 'Role', ''], rows),
      owner ? '' : h('p', { class: 'muted' }, `Only the owner, ${deviceName(status, folder.owner ?? '')}, changes who is a member.`),
      errors.el, form)
  }

  function renderActions () {
    const errors = errorBox()
    const paused = folder.state === 'paused'
    const rescan = paused ? '' : h('button', { type: 'button', class: 'secondary', onclick: event => busy(event.currentTarget, errors, async () => { await api('POST', '/folders/rescan', { id }); ctx.toast('Scanned') }) }, 'Scan now')
    const pause = h('button', {
      type: 'button',
      class: 'secondary',
      onclick: event => busy(event.currentTarget, errors, async () => {
        await api('POST', paused ? '/folders/resume' : '/folders/pause', { id })
        ctx.toast(paused ? `${folder.label} syncs again` : `${folder.label} is paused: nothing is scanned or fetched until you resume it`)
      })
    }, paused ? 'Resume syncing' : 'Pause syncing')
    const confirm = folder.state === 'needs-confirmation'
      ? h('button', { type: 'button', onclick: async event => {
        const button = event.currentTarget
        if (!await confirmAction('Record these deletions?', 'The files the scan misses are really gone, and other devices delete them too (they keep them in their version history).', 'Record deletions')) return
        await busy(button, errors, async () => { await api('POST', '/folders/confirm', { id }); ctx.toast('Deletions recorded') })
      } }, 'Confirm deletions')
      : ''
    fill(actions, pause, rescan, confirm, shareLink(dir, dir === '' ? `the folder ${folder.label}` : dir), errors.el)
  }

  /** Reloads the lists when what they show may have changed. */
  async function refresh (force = false) {
    const key = JSON.stringify([folder.files, folder.needFiles, folder.state, folder.conflicts, folder.lastScan, folder.pull?.doneFiles])
    if (!force && key === seen) return
    seen = key
    await Promise.all([loadFiles(), loadConflicts()]).catch(err => ctx.toast(err.message))
    if (versionsOf === '' && versions.childElementCount === 0) await showVersions('').catch(err => ctx.toast(err.message))
  }

  return {
    title: 'Folder',
    update (status) {
      const next = status.folders.find(f => f.id === id)
      if (next === undefined) {
        fill(main, h('h1', { id: 'page-title' }, 'No such folder'), h('p', {}, `This device does not sync a folder "${id}". `, h('a', { href: '#/' }, 'Back to the dashboard')))
        return
      }
      const stateChanged = folder?.state !== next.state
      folder = next
      heading.textContent = folder.label
      path.textContent = `${folder.path} · folder id ${folder.id}${folder.role ? ` · this device is ${folder.owner === status.deviceId ? 'the owner' : folder.role === 'editor' ? 'an editor' : 'a viewer'}` : ''}`
      fill(live, h('p', {}, folderBadge(folder)), folderFacts(folder, status))
      if (stateChanged) renderActions()
      const key = JSON.stringify([folder.members, folder.owner, status.peers.map(p => p.deviceId)])
      if (key !== membersKey) { membersKey = key; renderMembers(status) }
      refresh()
    }
  }
}
