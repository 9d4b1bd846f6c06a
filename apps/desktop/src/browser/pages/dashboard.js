import { api } from '../api.js'
import { badge, busy, bytes, errorBox, field, fill, h, table, time } from '../dom.js'
import { folderBadge, folderFacts } from '../state.js'

// Dashboard: this device, every folder with its state and progress, offers to accept, peers.

export function render (main, ctx) {
  const device = h('p', { class: 'lead' })
  const folders = h('div', { class: 'cards' })
  const offers = h('section', { 'aria-labelledby': 'offers-title', hidden: true })
  const peers = h('div')
  main.append(
    h('h1', { id: 'page-title' }, 'Dashboard'), device,
    h('h2', {}, 'Folders'), folders, offers,
    h('h2', {}, 'Devices'), peers)
  const cards = new Map()
  let offerKey = ''
  let peerKey = ''

  function folderCard (folder) {
    const live = h('div', { class: 'live' })
    const titleId = `folder-${folder.id}-title`
    const card = h('article', { class: 'card folder-card', 'aria-labelledby': titleId },
      h('h3', { id: titleId }, h('a', { href: `#/folder/${encodeURIComponent(folder.id)}` }, folder.label)),
      h('p', { class: 'path' }, folder.path),
      live)
    return { card, live }
  }

  function offerForm (offer) {
    const path = h('input', { name: 'path', required: true, autocomplete: 'off', placeholder: '/home/you/Documents' })
    const errors = errorBox()
    const button = h('button', { type: 'submit' }, `Accept "${offer.label}"`)
    const form = h('form', { class: 'card offer', 'aria-label': `Offer of folder ${offer.label}` },
      h('p', {}, badge('info', `Folder "${offer.label}" (${offer.folder}) is offered to this device by ${offer.from} as ${offer.role}.`)),
      field('Where to keep it on this device', path, 'A full path to an existing directory (it may be empty).'),
      errors.el, h('div', { class: 'actions' }, button))
    form.addEventListener('submit', async event => {
      event.preventDefault()
      await busy(button, errors, async () => {
        await api('POST', '/folders/add', { path: path.value, id: offer.folder, label: offer.label })
        ctx.toast(`Folder "${offer.label}" added; it syncs now`)
      })
    })
    return form
  }

  return {
    title: 'Dashboard',
    update (status) {
      fill(device, `This device is ${status.deviceName} (${status.deviceId}), for ${status.user}.`,
        status.revoked ? [' ', badge('bad', 'Revoked by the organisation: it cannot connect')] : '')

      const ids = status.folders.map(f => f.id).join('\n')
      if (ids !== [...cards.keys()].join('\n')) {
        cards.clear()
        for (const folder of status.folders) cards.set(folder.id, folderCard(folder))
        fill(folders, status.folders.length === 0
          ? h('p', {}, 'No folders yet. Add one in ', h('a', { href: '#/settings' }, 'Settings'), ', or accept one offered to this device.')
          : [...cards.values()].map(c => c.card))
      }
      for (const folder of status.folders) fill(cards.get(folder.id).live, h('p', {}, folderBadge(folder)), folderFacts(folder, status))

      const key = status.offers.map(o => `${o.folder}/${o.role}`).join('\n')
      if (key !== offerKey) {
        offerKey = key
        offers.hidden = status.offers.length === 0
        fill(offers, h('h2', { id: 'offers-title' }, 'Offered to this device'), status.offers.map(offerForm))
      }

      const rows = status.peers.map(p => h('tr', {},
        h('td', {}, p.deviceName, h('span', { class: 'muted' }, ` ${p.deviceId} · ${p.user}`)),
        h('td', {}, p.connected ? badge('ok', 'Online') : badge('wait', 'Offline')),
        h('td', {}, p.address ?? '—'),
        h('td', {}, p.connected ? 'now' : time(p.lastSeen)),
        h('td', {}, `${bytes(p.bytesIn)} in, ${bytes(p.bytesOut)} out`)))
      const next = JSON.stringify(status.peers)
      if (next !== peerKey) {
        peerKey = next
        fill(peers, status.peers.length === 0
          ? h('p', {}, 'No other devices yet: they appear when they connect (same network) or after `aerie peer add`.')
          : table('Devices this one knows', ['Device', 'State', 'Address', 'Last seen', 'Transferred'], rows))
      }
    }
  }
}
