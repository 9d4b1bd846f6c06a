import { api } from '../api.js'
import { busy, errorBox, field, h } from '../dom.js'

// First run: this device is not enrolled. Paste the code the administrator gave (or pick a photo
// of its QR code where the browser can read QR codes itself: Chromium's BarcodeDetector; no QR
// decoder library is bundled, as one is a lot of code to audit for a convenience).

async function qrReader () {
  if (!('BarcodeDetector' in window)) return undefined
  const formats = await window.BarcodeDetector.getSupportedFormats().catch(() => [])
  return formats.includes('qr_code') ? new window.BarcodeDetector({ formats: ['qr_code'] }) : undefined
}

export function render (main, ctx, onEnrolled) {
  const errors = errorBox()
  const code = h('textarea', { name: 'code', required: true, rows: 3, autocomplete: 'off', spellcheck: 'false' })
  const name = h('input', { name: 'name', autocomplete: 'off' })
  const submit = h('button', { type: 'submit' }, 'Enroll this device')
  const qr = h('div')
  const form = h('form', { class: 'card', 'aria-labelledby': 'enroll-title' },
    h('h2', { id: 'enroll-title' }, 'Enroll with a code'),
    field('Enrollment code', code, 'The one-time code from your administrator (the team server\'s console, or `aerie invite`).'),
    qr,
    field('Name of this device (optional)', name, 'How others see it, such as "Ada\'s laptop". Without one, the computer\'s name.'),
    errors.el, h('div', { class: 'actions' }, submit))
  form.addEventListener('submit', async event => {
    event.preventDefault()
    await busy(submit, errors, async () => {
      const answer = await api('POST', '/enroll', { code: code.value, name: name.value })
      ctx.toast(`Enrolled as ${answer.deviceName} for ${answer.user}; starting…`)
      await onEnrolled(answer)
    })
  })
  main.append(h('h1', { id: 'page-title' }, 'Welcome to Aerie'),
    h('p', { class: 'lead' }, 'This device is not part of your organisation yet. Enroll it with the code your administrator gave you; its key never leaves this device.'),
    form)
  code.focus()

  qrReader().then(reader => {
    if (reader === undefined) return
    const picker = h('input', { type: 'file', accept: 'image/*' })
    picker.addEventListener('change', async () => {
      errors.clear()
      try {
        const found = await reader.detect(await createImageBitmap(picker.files[0]))
        if (found.length === 0) throw new Error('no QR code found in that image; paste the code instead')
        code.value = found[0].rawValue
      } catch (err) {
        errors.show(err.message)
      }
    })
    qr.append(field('Or pick a picture of its QR code', picker))
  })
  return { title: 'Enroll' }
}
