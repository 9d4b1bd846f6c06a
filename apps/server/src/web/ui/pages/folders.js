import { api } from '../api.js'
import { bytes, fill, h, pageHeading, status, table } from '../dom.js'

const ROLE = { owner: 'Owner', editor: 'Editor', viewer: 'Viewer' }

export async function render (main) {
  const [{ folders }, { devices }] = await Promise.all([api('GET', '/folders'), api('GET', '/devices')])
  const names = new Map(devices.map(d => [d.deviceId, `${d.deviceName} (${d.user})`]))
  fill(main,
    pageHeading('Folders'),
    folders.length === 0
      ? h('p', { class: 'panel' }, 'No folders yet. A folder appears here once a device shares it with the server.')
      : folders.map(f => h('section', { class: 'panel', 'aria-labelledby': `folder-${f.id}` },
        h('h2', { id: `folder-${f.id}` }, f.label),
        h('p', { class: 'muted' }, `Folder id ${f.id} · owner ${f.owner} · ${f.files.toLocaleString()} files · ${bytes(f.bytes)}`),
        table(`Members of ${f.label}`, ['Device', 'Role', 'Connection'], f.members.map(m => h('tr', {},
          h('th', { scope: 'row' }, names.get(m.deviceId) ?? m.deviceId),
          h('td', {}, ROLE[m.role] ?? m.role),
          h('td', {}, f.online.includes(m.deviceId) ? status('ok', 'Online') : status('off', 'Offline'))))))))
}
