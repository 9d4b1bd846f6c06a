import { api } from '../api.js'
import { bytes, fill, h, pageHeading, status } from '../dom.js'

function card (title, value, ...lines) {
  return h('section', { class: 'card', 'aria-label': title },
    h('h2', {}, title), h('p', { class: 'card-value' }, value), lines.map(line => h('p', { class: 'card-line' }, line)))
}

export async function render (main) {
  const d = await api('GET', '/dashboard')
  const ratio = d.storage.dedupeRatio
  fill(main,
    pageHeading('Dashboard'),
    h('div', { class: 'cards' },
      card('Devices online', `${d.devices.online} of ${d.devices.enrolled}`,
        d.devices.online > 0 ? status('ok', `${d.devices.online} connected now`) : status('off', 'none connected now'),
        d.devices.revoked > 0 ? `${d.devices.revoked} revoked` : 'none revoked'),
      card('Folders', String(d.folders.count), `${d.folders.files.toLocaleString()} files`, `${bytes(d.folders.bytes)} in all`),
      card('Storage used', bytes(d.storage.storedBytes),
        `${bytes(d.storage.uniqueBytes)} unique data in ${d.storage.chunks.toLocaleString()} chunks`,
        `${bytes(d.folders.bytes)} of folder contents`),
      card('Dedupe ratio', ratio === null ? '—' : `${ratio.toFixed(2)} ×`,
        ratio === null ? 'nothing stored yet' : 'folder contents per unique byte stored'),
      card('Users', String(d.users.count), `${d.users.admins} admin${d.users.admins === 1 ? '' : 's'}`,
        d.users.withTwoFactor === d.users.count ? status('ok', 'all use two-step sign-in') : status('warn', `${d.users.count - d.users.withTwoFactor} without two-step sign-in`))),
    h('section', { class: 'panel' },
      h('h2', {}, 'Organisation'),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Name'), h('dd', {}, d.org.name),
        h('dt', {}, 'Root CA fingerprint (SHA-256)'), h('dd', {}, h('code', { class: 'wrap' }, d.org.caFingerprint)),
        h('dt', {}, 'Server device'), h('dd', {}, h('code', {}, d.org.deviceId)),
        h('dt', {}, 'Peer addresses'), h('dd', {}, d.org.addresses.length === 0 ? '—' : h('ul', { class: 'plain' }, d.org.addresses.map(a => h('li', {}, h('code', { class: 'wrap' }, a))))))))
}
