import { api } from '../api.js'
import { busy, confirmAction, errorBox, field, fill, h, table } from '../dom.js'
import { deviceSettingsSection } from './settings-device.js'
import { logSection } from './settings-logs.js'

// Settings: who this device is, which directories it syncs (add one, stop syncing one), and its log.

export function render (main, ctx) {
  const device = h('div')
  const folders = h('div')
  const errors = errorBox()
  const path = h('input', { name: 'path', required: true, autocomplete: 'off', placeholder: '/home/you/Documents' })
  const label = h('input', { name: 'label', autocomplete: 'off' })
  const add = h('button', { type: 'submit' }, 'Add folder')
  const form = h('form', { class: 'card', 'aria-labelledby': 'add-title' },
    h('h3', { id: 'add-title' }, 'Add a folder'),
    field('Directory', path, 'The full path of an existing directory on this device; ~/ is your home.'),
    field('Name (optional)', label, 'How the folder is called on every device.'),
    errors.el, h('div', { class: 'actions' }, add))
  form.addEventListener('submit', async event => {
    event.preventDefault()
    await busy(add, errors, async () => {
      const folder = await api('POST', '/folders/add', { path: path.value, label: label.value })
      ctx.toast(`Added folder "${folder.label}"; it is being scanned`)
      path.value = ''
      label.value = ''
    })
  })
  const logs = logSection(ctx)
  const network = deviceSettingsSection(ctx)
  main.append(
    h('h1', { id: 'page-title' }, 'Settings'),
    h('section', { 'aria-labelledby': 'device-title' }, h('h2', { id: 'device-title' }, 'This device'), device),
    network.el,
    h('section', { 'aria-labelledby': 'folders-title' }, h('h2', { id: 'folders-title' }, 'Folders'), folders, form),
    logs.el)

  let key = ''
  return {
    title: 'Settings',
    dispose: () => { logs.dispose() },
    update (status) {
      network.update(status)
      fill(device, h('dl', { class: 'facts-list' },
        h('dt', {}, 'Name'), h('dd', {}, status.deviceName, h('span', { class: 'muted' }, status.certificateName === status.deviceName ? ' (as in its certificate)' : ` (its certificate, which other devices see, says "${status.certificateName}")`)),
        h('dt', {}, 'Device id'), h('dd', {}, h('code', {}, status.deviceId)),
        h('dt', {}, 'User'), h('dd', {}, status.user),
        h('dt', {}, 'Listening on'), h('dd', {}, status.addresses.length === 0 ? 'nothing' : status.addresses.map(a => h('code', { class: 'block' }, a))),
        status.caHolder ? [h('dt', {}, 'Role'), h('dd', {}, 'Certificate authority of the organisation', status.enrollmentOpen ? '' : ' (locked: enrollment needs the CA passphrase)')] : ''))
      const next = JSON.stringify(status.folders.map(f => [f.id, f.label, f.path]))
      if (next === key) return
      key = next
      const rowErrors = errorBox()
      fill(folders, status.folders.length === 0 ? h('p', {}, 'This device syncs no folders yet.') : table('Folders this device syncs', ['Name', 'Location', ''], status.folders.map(f => h('tr', {},
        h('td', {}, h('a', { href: `#/folder/${encodeURIComponent(f.id)}` }, f.label), h('span', { class: 'muted' }, ` ${f.id}`)),
        h('td', {}, h('code', {}, f.path)),
        h('td', {}, h('button', {
          type: 'button',
          class: 'secondary small',
          'aria-label': `Stop syncing ${f.label}`,
          onclick: async event => {
            const button = event.currentTarget
            if (!await confirmAction(`Stop syncing "${f.label}"?`, `Its files stay in ${f.path}; this device just stops syncing them. You can add it again later.`, 'Stop syncing')) return
            await busy(button, rowErrors, async () => {
              await api('POST', '/folders/remove', { id: f.id })
              ctx.toast(`Stopped syncing "${f.label}"; its files are untouched`)
            })
          }
        }, 'Stop syncing'))))), rowErrors.el)
    }
  }
}
