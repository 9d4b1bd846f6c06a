import { api } from '../api.js'
import { badge, busy, bytes, errorBox, field, fill, h } from '../dom.js'

// Settings → Network and name: LAN-only mode, bandwidth limits (KiB/s, empty or 0: none), the
// share of each disk a pull keeps free, and the name this agent shows. Saved in config.json and
// applied by the agent at once.

const KIB = 1024

export function deviceSettingsSection (ctx) {
  const name = h('input', { name: 'device-name', autocomplete: 'off', required: true, maxlength: '64' })
  const lanOnly = h('input', { type: 'checkbox', name: 'lan-only' })
  const upload = h('input', { type: 'number', name: 'upload-limit', min: '0', step: '1', inputmode: 'numeric' })
  const download = h('input', { type: 'number', name: 'download-limit', min: '0', step: '1', inputmode: 'numeric' })
  const minFree = h('input', { type: 'number', name: 'min-disk-free', min: '0', max: '50', step: '0.1', inputmode: 'decimal', required: true })
  const state = h('div', { 'aria-live': 'polite' })
  const save = h('button', { type: 'submit' }, 'Save settings')
  const errors = errorBox()
  const form = h('form', { class: 'card', 'aria-labelledby': 'network-title' },
    h('h2', { id: 'network-title' }, 'Network and name'),
    state,
    field('Device name shown here', name, 'What this agent calls itself in its screens and log. Its certificate, which other devices see, keeps the name it enrolled with.'),
    h('div', { class: 'field' }, h('label', {}, lanOnly, ' LAN only'),
      h('p', { class: 'hint' }, 'Connect only to and from devices on the local network (private, link-local and loopback addresses). A team server on a public address is then out of reach: no central copy, backups or share links until this is off.')),
    field('Upload limit (KiB/s)', upload, 'Chunks sent to other devices, all together; empty or 0: no limit.'),
    field('Download limit (KiB/s)', download, 'Chunks fetched from other devices, all together; empty or 0: no limit.'),
    field('Keep free on each disk (%)', minFree, 'A file that would leave less than this share of its disk free is not synced until there is room, so that other programs can still save. 0 to 50.'),
    errors.el, h('div', { class: 'actions' }, save))
  const kib = (input) => input.value.trim() === '' ? 0 : Math.round(Number(input.value) * KIB)
  form.addEventListener('submit', async event => {
    event.preventDefault()
    await busy(save, errors, async () => {
      if (![upload, download].every(input => input.value.trim() === '' || Number(input.value) >= 0)) throw new Error('A limit is a number of KiB/s, 0 or more')
      await api('POST', '/settings', { deviceName: name.value, lanOnly: lanOnly.checked, uploadLimit: kib(upload), downloadLimit: kib(download), minDiskFree: Number(minFree.value) })
      ctx.toast('Settings saved and applied')
      loaded = ''
    })
  })

  let loaded = ''
  const rate = (n) => n === 0 ? 'no limit' : `${bytes(n)}/s`
  return {
    el: form,
    update (status) {
      const s = status.settings
      fill(state, h('p', { class: 'facts' }, s.lanOnly ? badge('warn', 'LAN only: devices outside the local network, a public team server too, cannot connect') : badge('ok', 'Connects to devices anywhere')),
        h('p', { class: 'facts' }, `Upload ${rate(s.uploadLimit)} · download ${rate(s.downloadLimit)}`,
          status.bandwidth.download.waits + status.bandwidth.upload.waits > 0 ? ` · the limits held back ${bytes(status.bandwidth.download.delayedBytes + status.bandwidth.upload.delayedBytes)} so far` : ''),
        h('p', { class: 'facts', id: 'min-disk-free' }, `Keeps ${s.minDiskFree}% of each disk free`))
      // Fill the form from the agent once (and after a save), never under the person's typing.
      const key = JSON.stringify(s)
      if (key === loaded || form.contains(document.activeElement)) return
      loaded = key
      name.value = s.deviceName
      lanOnly.checked = s.lanOnly
      upload.value = s.uploadLimit === 0 ? '' : String(s.uploadLimit / KIB)
      download.value = s.downloadLimit === 0 ? '' : String(s.downloadLimit / KIB)
      minFree.value = String(s.minDiskFree)
    }
  }
}
