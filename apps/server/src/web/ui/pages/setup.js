import { api } from '../api.js'
import { errorBox, field, fill, h, onSubmit } from '../dom.js'

export async function render (main, ctx) {
  const token = new URLSearchParams(location.search).get('token') ?? ''
  const errors = errorBox()
  const form = h('form', { class: 'panel narrow', novalidate: true },
    h('h1', {}, 'Set up this team server'),
    h('p', {}, 'Create the first administrator account. This page works once, with the setup link the server printed when it first started.'),
    token === '' ? h('p', { class: 'form-error', role: 'alert' }, 'This link has no setup token. Open the full setup URL from the server\'s output.') : null,
    field('Email', h('input', { name: 'email', type: 'email', autocomplete: 'username', required: true, id: 'setup-email' })),
    field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 12, id: 'setup-password' }),
      'At least 12 characters; a few unrelated words are easy to remember.'),
    field('Password again', h('input', { name: 'again', type: 'password', autocomplete: 'new-password', required: true, id: 'setup-again' })),
    errors.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create administrator')))
  onSubmit(form, errors, async data => {
    if (data.get('password') !== data.get('again')) throw new Error('the two passwords differ')
    await api('POST', '/setup', { token, email: data.get('email'), password: data.get('password') })
    await ctx.onSignedIn()
    ctx.toast('Administrator created. Next: turn on two-step sign-in under Account.')
  })
  fill(main, form)
}
