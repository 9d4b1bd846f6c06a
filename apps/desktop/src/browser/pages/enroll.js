import { api } from '../api.js'
import { busy, errorBox, field, h } from '../dom.js'

// First run: this device is not enrolled. Paste the code the administrator gave, or pick (or
// drop onto the page) a picture of its QR code.
//
// The picture is read here, from its pixels, by jsQR (a pure-JS decoder, served by the UI
// server as /vendor/jsqr.js from its npm package). One way on every browser: Chromium's
// BarcodeDetector is not used even where it exists (it does not on Linux, nor in Electron),
// because a second path would behave differently and only one of the two could be tested.

/** Larger pictures (phone photos) are scaled down first: decoding is on the page's thread. */
const MAX_SIDE = 2048

let decoder

/** jsQR, loaded the first time a picture is given (it is 250 KB). */
async function jsQR () {
  if (decoder === undefined) {
    // A UMD build: loaded as a module, it sets self.jsQR.
    await import('/vendor/jsqr.js')
    decoder = self.jsQR
  }
  return decoder
}

/** The text of the QR code in a picture (a File); an Error that says what to do otherwise. */
async function readQrCode (file) {
  let bitmap
  try {
    bitmap = await createImageBitmap(file)
  } catch {
    throw new Error(`${file.name} is not a picture this browser can open: pick a PNG or JPEG of the QR code, or paste the code`)
  }
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height))
  const width = Math.max(1, Math.round(bitmap.width * scale))
  const height = Math.max(1, Math.round(bitmap.height * scale))
  const canvas = h('canvas', { width, height })
  const context = canvas.getContext('2d', { willReadFrequently: true })
  // White under a transparent picture: its clear pixels would otherwise read as black.
  context.fillStyle = '#fff'
  context.fillRect(0, 0, width, height)
  context.drawImage(bitmap, 0, 0, width, height)
  bitmap.close()
  const found = (await jsQR())(context.getImageData(0, 0, width, height).data, width, height)
  if (found === null || found.data.trim() === '') throw new Error(`no QR code found in ${file.name}: try a sharper picture that shows the whole code, or paste the code`)
  return found.data.trim()
}

export function render (main, ctx, onEnrolled) {
  const errors = errorBox()
  const code = h('textarea', { name: 'code', required: true, rows: 3, autocomplete: 'off', spellcheck: 'false' })
  const name = h('input', { name: 'name', autocomplete: 'off' })
  const picture = h('input', { type: 'file', accept: 'image/*' })
  const submit = h('button', { type: 'submit' }, 'Enroll this device')
  const form = h('form', { class: 'card', 'aria-labelledby': 'enroll-title' },
    h('h2', { id: 'enroll-title' }, 'Enroll with a code'),
    field('Enrollment code', code, 'The one-time code from your administrator (the team server\'s console, or `aerie invite`).'),
    field('Or pick a picture of its QR code', picture, 'A photo or screenshot of the QR code; you can also drop it onto this page.'),
    field('Name of this device (optional)', name, 'How others see it, such as "Ada\'s laptop". Without one, the computer\'s name.'),
    errors.el, h('div', { class: 'actions' }, submit))
  // Dropping a picture anywhere on the page reads it (instead of the browser opening it),
  // until this device is enrolled.
  const dropping = new AbortController()

  /** A picture's code goes into the same field as a pasted one, and is enrolled the same way. */
  async function usePicture (file) {
    if (file === undefined) return
    errors.clear()
    try {
      code.value = await readQrCode(file)
      ctx.toast('Code read from the picture: check the name, then enroll this device')
      submit.focus()
    } catch (err) {
      errors.show(err.message)
    }
  }

  picture.addEventListener('change', () => usePicture(picture.files[0]))
  const carriesFiles = event => event.dataTransfer?.types.includes('Files')
  document.addEventListener('dragover', event => { if (carriesFiles(event)) event.preventDefault() }, { signal: dropping.signal })
  document.addEventListener('drop', event => {
    if (!carriesFiles(event)) return
    event.preventDefault()
    usePicture(event.dataTransfer.files[0])
  }, { signal: dropping.signal })

  form.addEventListener('submit', async event => {
    event.preventDefault()
    await busy(submit, errors, async () => {
      const answer = await api('POST', '/enroll', { code: code.value, name: name.value })
      dropping.abort()
      ctx.toast(`Enrolled as ${answer.deviceName} for ${answer.user}; starting…`)
      await onEnrolled(answer)
    })
  })
  main.append(h('h1', { id: 'page-title' }, 'Welcome to Aerie'),
    h('p', { class: 'lead' }, 'This device is not part of your organisation yet. Enroll it with the code your administrator gave you; its key never leaves this device.'),
    form)
  code.focus()
  return { title: 'Enroll' }
}
