import { api } from '../api.js'
import { bytes, confirmAction, errorBox, field, fill, h, onSubmit, pageHeading, status, table } from '../dom.js'
import { folderHref } from './folder.js'

const ROLE = { owner: 'Owner', editor: 'Editor', viewer: 'Viewer' }

export async function render (main, ctx) {
  const [{ folders, canManageMembers }, { devices }] = await Promise.all([api('GET', '/folders'), api('GET', '/devices')])
  const names = new Map(devices.map(d => [d.deviceId, `${d.deviceName} (${d.user})`]))
  const path = (folder, device) => `/folders/${encodeURIComponent(folder.id)}/members/${encodeURIComponent(device)}`
  const userPath = (folder, email) => `/folders/${encodeURIComponent(folder.id)}/users/${encodeURIComponent(email)}`

  const change = async (action, message) => {
    try {
      await action()
      ctx.toast(message)
    } catch (err) {
      ctx.toast(err.message)
    }
    await render(main, ctx)
  }

  const roleCell = (folder, member) => {
    if (!canManageMembers || member.role === 'owner') return ROLE[member.role] ?? member.role
    const name = names.get(member.deviceId) ?? member.deviceId
    const select = h('select', { 'aria-label': `Role of ${name} in ${folder.label}` },
      ['editor', 'viewer'].map(role => h('option', { value: role, selected: role === member.role }, ROLE[role])))
    select.addEventListener('change', () => change(() => api('PUT', path(folder, member.deviceId), { role: select.value }), `${name} is now ${ROLE[select.value].toLowerCase()} of ${folder.label}`))
    return select
  }

  const removeButton = (folder, member) => {
    if (!canManageMembers || member.role === 'owner') return null
    const name = names.get(member.deviceId) ?? member.deviceId
    return h('button', {
      type: 'button',
      class: 'danger small',
      'aria-label': `Remove ${name} from ${folder.label}`,
      onclick: async () => {
        if (!await confirmAction(`Remove ${name}?`, `${name} stops receiving ${folder.label} and its changes are no longer accepted. The files already on it stay there.`, 'Remove member')) return
        await change(() => api('DELETE', path(folder, member.deviceId)), `${name} was removed from ${folder.label}`)
      }
    }, 'Remove')
  }

  // A user's grant: every device of theirs, present and future.
  const userRow = (folder, grant) => {
    const label = `All devices of ${grant.user}`
    let role = ROLE[grant.role]
    let remove = null
    if (canManageMembers) {
      role = h('select', { 'aria-label': `Role of the devices of ${grant.user} in ${folder.label}` },
        ['editor', 'viewer'].map(r => h('option', { value: r, selected: r === grant.role }, ROLE[r])))
      role.addEventListener('change', () => change(() => api('PUT', userPath(folder, grant.user), { role: role.value }), `The devices of ${grant.user} are now ${ROLE[role.value].toLowerCase()}s of ${folder.label}`))
      remove = h('button', {
        type: 'button',
        class: 'danger small',
        'aria-label': `Remove the devices of ${grant.user} from ${folder.label}`,
        onclick: async () => {
          if (!await confirmAction(`Remove the devices of ${grant.user}?`, `Their devices stop receiving ${folder.label}, unless one is a member on its own. The files already on them stay there.`, 'Remove member')) return
          await change(() => api('DELETE', userPath(folder, grant.user)), `The devices of ${grant.user} were removed from ${folder.label}`)
        }
      }, 'Remove')
    }
    return h('tr', {},
      h('th', { scope: 'row' }, label),
      h('td', {}, role),
      h('td', {}, '—'),
      canManageMembers ? h('td', {}, remove) : null)
  }

  const addUserForm = folder => {
    if (!canManageMembers) return null
    const errors = errorBox()
    const form = h('form', { novalidate: true, class: 'subform' },
      h('h3', {}, 'Share with all devices of a user'),
      h('div', { class: 'row' },
        field('User email', h('input', { name: 'email', type: 'email', autocomplete: 'off', required: true })),
        field('Role for that user', h('select', { name: 'role' }, h('option', { value: 'editor' }, 'Editor'), h('option', { value: 'viewer' }, 'Viewer')))),
      errors.el,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Share with user')))
    onSubmit(form, errors, async data => {
      const email = String(data.get('email')).trim()
      await api('PUT', userPath(folder, email), { role: data.get('role') })
      ctx.toast(`Every device of ${email} now receives ${folder.label}`)
      await render(main, ctx)
    })
    return form
  }

  const addForm = folder => {
    const candidates = devices.filter(d => !d.revokedAt && !folder.members.some(m => m.deviceId === d.deviceId))
    if (!canManageMembers || candidates.length === 0) return null
    const errors = errorBox()
    const form = h('form', { novalidate: true, class: 'subform' },
      h('h3', {}, 'Add a member'),
      h('div', { class: 'row' },
        field('Device', h('select', { name: 'device' }, candidates.map(d => h('option', { value: d.deviceId }, `${d.deviceName} (${d.user})`)))),
        field('Role', h('select', { name: 'role' }, h('option', { value: 'editor' }, 'Editor'), h('option', { value: 'viewer' }, 'Viewer')))),
      errors.el,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add member')))
    onSubmit(form, errors, async data => {
      await api('PUT', path(folder, String(data.get('device'))), { role: data.get('role') })
      ctx.toast(`${names.get(String(data.get('device')))} was added to ${folder.label}`)
      await render(main, ctx)
    })
    return form
  }

  fill(main,
    pageHeading('Folders'),
    folders.length === 0
      ? h('p', { class: 'panel' }, 'No folders yet. A folder appears here once a device shares it with the server.')
      : folders.map(f => h('section', { class: 'panel', 'aria-labelledby': `folder-${f.id}` },
        h('h2', { id: `folder-${f.id}` }, f.label),
        h('p', { class: 'muted' }, `Folder id ${f.id} · owner ${f.owner} · ${f.files.toLocaleString()} files · ${bytes(f.bytes)}`),
        h('p', {}, h('a', { href: folderHref(f.id), 'aria-label': `Files and versions of ${f.label}` }, 'Files and versions')),
        table(`Members of ${f.label}`, ['Device', 'Role', 'Connection', canManageMembers ? 'Action' : null].filter(Boolean), f.members.map(m => h('tr', {},
          h('th', { scope: 'row' }, names.get(m.deviceId) ?? m.deviceId),
          h('td', {}, roleCell(f, m)),
          h('td', {}, f.online.includes(m.deviceId) ? status('ok', 'Online') : status('off', 'Offline')),
          canManageMembers ? h('td', {}, removeButton(f, m)) : null)).concat((f.users ?? []).map(u => userRow(f, u)))),
        addForm(f),
        addUserForm(f))))
}
