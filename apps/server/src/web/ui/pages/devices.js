import { api } from '../api.js'
import { confirmAction, errorBox, field, fill, h, onSubmit, pageHeading, status, svgImage, table, time } from '../dom.js'

function deviceStatus (d) {
  if (d.revokedAt) return status('bad', 'Revoked')
  if (d.online) return status('ok', 'Online')
  return status('off', 'Offline')
}

export async function render (main, ctx) {
  const me = ctx.me()
  const isAdmin = me.user.role === 'admin'
  const { devices } = await api('GET', '/devices')
  const result = h('div', { id: 'enrollment-result', 'aria-live': 'polite' })
  const errors = errorBox()
  const form = h('form', { class: 'panel', novalidate: true, id: 'enrollment-form' },
    h('h2', {}, 'Enroll a new device'),
    h('p', {}, 'An enrollment code lets one new device join the organisation. It works once and expires.'),
    h('div', { class: 'row' },
      isAdmin ? field('For user (email)', h('input', { name: 'user', type: 'email', value: me.user.email, id: 'enroll-user', required: true })) : null,
      field('Device name (optional)', h('input', { name: 'deviceName', id: 'enroll-name', maxlength: 64 })),
      field('Valid for', h('select', { name: 'ttl', id: 'enroll-ttl' },
        h('option', { value: '60' }, '1 hour'), h('option', { value: '1440', selected: true }, '1 day'), h('option', { value: '10080' }, '7 days')))),
    errors.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create enrollment code')))
  onSubmit(form, errors, async data => {
    const body = { ttlMinutes: Number(data.get('ttl')) }
    if (isAdmin) body.user = String(data.get('user')).trim()
    const name = String(data.get('deviceName') ?? '').trim()
    if (name !== '') body.deviceName = name
    const issued = await api('POST', '/enrollment-codes', body)
    result.replaceChildren(h('section', { class: 'panel highlight', 'aria-labelledby': 'code-title' },
      h('h2', { id: 'code-title' }, 'Enrollment code'),
      h('div', { class: 'code-layout' },
        svgImage(issued.qrSvg, 'QR code of the enrollment code'),
        h('div', {},
          h('p', {}, 'On the new device, run:'),
          h('pre', { class: 'command' }, h('code', {}, 'aerie enroll ', h('span', { id: 'enrollment-code' }, issued.code))),
          h('p', {}, `For ${issued.user}${issued.deviceName ? `, device “${issued.deviceName}”` : ''}. Works once, until `, time(issued.expiresAt), '.'),
          h('button', { type: 'button', class: 'secondary small', onclick: async () => { await navigator.clipboard?.writeText(issued.code); ctx.toast('Code copied') } }, 'Copy code')))))
    result.querySelector('h2').setAttribute('tabindex', '-1')
    result.querySelector('h2').focus()
  })

  const revokeButton = d => h('button', {
    type: 'button',
    class: 'danger small',
    'aria-label': `Revoke ${d.deviceName}`,
    onclick: async () => {
      const sure = await confirmAction(`Revoke ${d.deviceName}?`,
        `${d.deviceName} (${d.user}) will be disconnected from every device at once and can never connect again. It would have to be enrolled anew.`,
        'Revoke device')
      if (!sure) return
      try {
        await api('POST', `/devices/${encodeURIComponent(d.deviceId)}/revoke`)
        ctx.toast(`${d.deviceName} is revoked`)
        await render(main, ctx)
      } catch (err) {
        ctx.toast(`Could not revoke: ${err.message}`)
      }
    }
  }, 'Revoke')

  const rows = devices.map(d => h('tr', { 'data-device': d.deviceId },
    h('th', { scope: 'row' }, d.deviceName, h('br'), h('code', { class: 'muted' }, d.deviceId)),
    isAdmin ? h('td', {}, d.user) : null,
    h('td', {}, deviceStatus(d), d.online || d.revokedAt ? null : h('span', { class: 'muted block' }, 'last seen ', d.lastSeen ? time(d.lastSeen) : 'never')),
    h('td', {}, time(d.issuedAt)),
    h('td', {}, d.address ? h('code', { class: 'wrap' }, d.address) : '—'),
    h('td', {}, d.revokedAt
      ? h('span', { class: 'muted' }, 'revoked ', time(d.revokedAt))
      : d.deviceId === me.org.deviceId
        ? h('span', { class: 'muted' }, 'this server')
        : revokeButton(d))))

  fill(main,
    pageHeading('Devices'),
    form,
    result,
    h('section', { class: 'panel' },
      h('h2', {}, isAdmin ? 'All devices' : 'Your devices'),
      devices.length === 0
        ? h('p', {}, 'No devices are enrolled yet.')
        : table('Devices', ['Device', isAdmin ? 'User' : null, 'Status', 'Enrolled', 'Address', 'Action'].filter(Boolean), rows)))
}
